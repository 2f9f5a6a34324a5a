/**
 * Every command module, in the order `respaldo --help` lists them, for the whole-program help and errors.
 * One static module graph loads in less memory than eleven separate dynamic imports. A single command
 * loads only its own module (the table in ../program.ts); a test checks the two agree.
 */
import * as create from './create.js';
import * as drill from './drill.js';
import * as key from './key.js';
import * as list from './list.js';
import * as manage from './manage.js';
import * as notify from './notify.js';
import * as offsite from './offsite.js';
import * as prune from './prune.js';
import * as restore from './restore.js';
import * as schedule from './schedule.js';
import * as verify from './verify.js';

export const ALL_COMMANDS = [create, list, verify, restore, drill, manage, prune, schedule, notify, offsite, key];
