import { runStoreConformance } from '../store.conformance.js';
import { createMemoryStores } from './memory-store.js';

runStoreConformance({ name: 'memory', createStore: async () => createMemoryStores() });
