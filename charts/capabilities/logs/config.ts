/**
 * The `logs` section of the environment file. Pure: zod and the pure lib/core files only
 * (config/ imports it).
 */
import { z } from 'zod';

export const logsSectionSchema = z.strictObject({});
export type LogsSection = z.output<typeof logsSectionSchema>;
