/**
 * The `tracing` section of the environment file. Pure: zod and the pure lib/core files only
 * (config/ imports it).
 */
import { z } from 'zod';

export const tracingSectionSchema = z.strictObject({});
export type TracingSection = z.output<typeof tracingSectionSchema>;
