import { runStoreConformance } from '../store.conformance.js';
import { createMemoryStores } from './memory-store.js';

runStoreConformance({ name: 'memory', createStore: async () => createMemoryStores(), corruptRun: { skip: 'the memory store keeps runs as objects and never parses them' }, openAnother: { skip: 'a memory store lives in one process: its engines hear each other in memory' } });
