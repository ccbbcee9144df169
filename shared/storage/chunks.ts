/**
 * Lists too long for one property (a string property holds at most 64 KiB, i.e. 32K UTF-16 characters;
 * an entity at most 1 MiB) are stored as JSON split over the properties `p0..pN` of "chunk" entities.
 * Used for group memberships, run logs and the ids seen by an import.
 */
export const CHUNK_PROPERTY_CHARS = 30_000;
export const CHUNK_PROPERTIES = 12;

export interface ChunkEntity {
  partitionKey: string;
  rowKey: string;
  count: number;
  [property: `p${number}`]: string;
  [property: string]: unknown;
}

/** Packs items into as few entities as fit, keeping item order. Row keys come from `rowKeyOf(chunkIndex)`. */
export function packChunks(
  items: readonly unknown[],
  partitionKey: string,
  rowKeyOf: (chunkIndex: number) => string,
): ChunkEntity[] {
  const entities: ChunkEntity[] = [];
  let properties: string[] = [];
  let current: string[] = [];
  let currentChars = 2;
  let count = 0;

  const closeProperty = (): void => {
    if (current.length > 0) properties.push(`[${current.join(',')}]`);
    current = [];
    currentChars = 2;
  };
  const closeEntity = (): void => {
    closeProperty();
    if (properties.length === 0) return;
    const entity: ChunkEntity = { partitionKey, rowKey: rowKeyOf(entities.length), count };
    properties.forEach((value, index) => {
      entity[`p${index}`] = value;
    });
    entities.push(entity);
    properties = [];
    count = 0;
  };

  for (const item of items) {
    const json = JSON.stringify(item);
    if (json.length + 2 > CHUNK_PROPERTY_CHARS)
      throw new RangeError('An item is too large for one table property');
    if (currentChars + json.length + 1 > CHUNK_PROPERTY_CHARS) {
      closeProperty();
      if (properties.length === CHUNK_PROPERTIES) closeEntity();
    }
    current.push(json);
    currentChars += json.length + 1;
    count += 1;
  }
  closeEntity();
  return entities;
}

export function unpackChunk<T>(entity: Readonly<Record<string, unknown>>): T[] {
  const items: T[] = [];
  for (let index = 0; index < CHUNK_PROPERTIES; index += 1) {
    const value = entity[`p${index}`];
    if (typeof value !== 'string') break;
    items.push(...(JSON.parse(value) as T[]));
  }
  return items;
}
