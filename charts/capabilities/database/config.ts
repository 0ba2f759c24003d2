/**
 * The `database` section of the environment file. Pure: zod and the pure lib/core files only
 * (config/ imports it).
 */
import { z } from 'zod';

export const databaseSectionSchema = z.strictObject({});
export type DatabaseSection = z.output<typeof databaseSectionSchema>;
