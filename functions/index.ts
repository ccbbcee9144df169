import { app } from '@azure/functions';
import { functionDefinitions } from './registry.js';

// Registration is the last thing the app does: the definitions are data in registry.ts.
for (const definition of functionDefinitions) {
  switch (definition.trigger) {
    case 'http':
      app.http(definition.name, {
        route: definition.route,
        methods: [...definition.methods],
        authLevel: definition.authLevel,
        handler: definition.handler,
      });
      break;
    case 'timer':
      app.timer(definition.name, { schedule: definition.schedule, handler: definition.handler });
      break;
    case 'queue':
      app.storageQueue(definition.name, {
        queueName: definition.queueName,
        connection: definition.connection,
        handler: definition.handler,
      });
      break;
  }
}
