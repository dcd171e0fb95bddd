// Entry module of the dashboard page (index.html): read the page config, start the dashboard.

import { Dashboard } from "../dashboard.js";
import { createLogger } from "../debug_log.js";
import { readPageConfig } from "../page_config.js";

const config = readPageConfig();
new Dashboard(document, config, createLogger(config.debug)).start();
