/**
 * @hangar/cli — the `hangar` command. Its interface is the command line (see `hangar --help`); this
 * module exports nothing for programs.
 */
export {};
