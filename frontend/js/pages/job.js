// Entry module of the job detail page (job.html?id=<uuid>): read the page config, start the page.

import { createLogger } from "../debug_log.js";
import { JobPage } from "../job_page.js";
import { readPageConfig } from "../page_config.js";

const config = readPageConfig();
new JobPage(document, config, createLogger(config.debug)).start();
