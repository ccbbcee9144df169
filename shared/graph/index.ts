export * from './clouds.js';
export * from './errors.js';
export * from './schemas.js';
export * from './pages.js';
export * from './retry.js';
export {
  endpointKind,
  GraphRequestStats,
  systemClock,
  type Clock,
  type GraphRequestCounts,
} from './middleware.js';
export * from './client.js';
export * from './reader.js';
