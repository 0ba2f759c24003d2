/**
 * The `backups` section of the environment file. Pure: zod and the pure lib/core files only
 * (config/ imports it).
 */
import { z } from 'zod';

export const backupsSectionSchema = z.strictObject({});
export type BackupsSection = z.output<typeof backupsSectionSchema>;
