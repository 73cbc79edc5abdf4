/** The local cloud's usage text (tools/local/help.mjs). */
export declare const HELP: string;
