// The crash workload's modules for `flowrun worker --modules` (a default export keyed by module
// identifier); their side effects go to the folder named by FLOWRUN_EFFECTS_DIR.
import { recoveryModules } from './workload.js';

export default recoveryModules(process.env.FLOWRUN_EFFECTS_DIR!);
