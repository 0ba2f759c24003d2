import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { recommendedLabels, resourceName, configChecksum } from '../core';
import { PodVolumeSpec } from '../workload';
import { BackupScriptFile, backupScriptFiles } from './scripts';

export interface BackupScriptsProps {
  /** ConfigMap name. @default 'pg-backup-scripts' */
  readonly name?: string;
}

/** Where the jobs see the scripts. */
export const BACKUP_SCRIPTS_DIR = '/opt/pronto/backups';

/**
 * The ConfigMap holding every backup job's script ({@link backupScriptFiles}). Jobs mount
 * it read-only at {@link BACKUP_SCRIPTS_DIR}, run `sh <file>`, and carry its checksum
 * ({@link checksum}) as a pod annotation, so an edited script is visibly a new pod template.
 */
export class BackupScripts extends Construct {
  /** ConfigMap name. */
  public readonly name: string;
  /** SHA-256 of the files, `sha256:<hex>`. */
  public readonly checksum: string;
  public readonly configMap: kplus.k8s.KubeConfigMap;
  private readonly files: Record<BackupScriptFile, string>;

  public constructor(scope: Construct, id: string, props: BackupScriptsProps = {}) {
    super(scope, id);
    this.name = resourceName(props.name ?? 'pg-backup-scripts');
    this.files = backupScriptFiles();
    this.checksum = configChecksum(this.files);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'Resource', {
      metadata: { name: this.name, labels: recommendedLabels({ name: this.name, component: 'backup' }) },
      data: { ...this.files },
    });
  }

  /** The text of one script, as in the ConfigMap. */
  public script(file: BackupScriptFile): string {
    return this.files[file];
  }

  /** The pod volume of the ConfigMap (read-only files). */
  public volume(volumeName = 'scripts'): PodVolumeSpec {
    return { name: volumeName, configMap: { name: this.name, defaultMode: 0o444 } };
  }

  /** The command that runs `file`. */
  public command(file: BackupScriptFile): string[] {
    return ['sh', `${BACKUP_SCRIPTS_DIR}/${file}`];
  }
}
