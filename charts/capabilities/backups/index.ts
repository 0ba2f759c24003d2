/**
 * The `backups` capability: WAL-G CronJobs beside the database (daily base backup,
 * retention, WAL integrity, the monthly restore test) and an optional heartbeat, each with
 * the Vault agent in pre-populate-only mode; their flows; their alerts when metrics are on.
 * A backup is only real if a restore was tested: the restore test restores the latest
 * backup into an ephemeral volume, with archiving off and read-only storage credentials,
 * and checks the copy (lib/backups/restore-test-script.ts). Each job's object-store
 * credentials are of its own access level (lib/database WALG_ACCESS: only the retention job
 * deletes), whose least-privilege IAM policy it writes to `dist/<env>/object-store/`.
 */
import { Chart } from 'cdk8s';
import { EnvironmentConfig } from '../../../config/load';
import { ForeignEndpoint, bytes, workloadEndpoint } from '../../../lib/core';
import {
  BACKUP_ARCHIVE_ACCESS, BACKUP_JOBS, BACKUP_SCRIPT_ENV, BACKUP_SCRIPT_FILES, BackupJob, BackupJobKey, BackupPlan, BackupScripts, DEADLINES, HEARTBEAT_SECRET, RestoreTestJob,
  backupRuleGroups,
} from '../../../lib/backups';
import { AlertRules } from '../../../lib/metrics';
import { mountCaBundle } from '../../../lib/tls';
import { EnvEntry, PodExtensionPoint } from '../../../lib/workload';
import { DatabasePort, HeartbeatPort, Ports, portProblem } from '../ports';
import { Capability } from '../capability';
import { SectionValue } from '../../../config/sections';
import { BackupsSection, cronCadence, formatSeconds, parseCron } from '../../../config/sections/backups';

type Section = SectionValue<'backups'>;

export { BACKUP_JOBS, DEADLINES, HEARTBEAT_SECRET };

/** What the backups read of the database: its port (backups require the database: config/sections). */
type Database = Pick<DatabasePort, 'storageSize' | 'backupRole' | 'archive'>;

/** The size the deadlines are sized from: `sizing.databaseSize`, else the data volume's. */
function databaseSize(section: BackupsSection, db: Pick<Database, 'storageSize'>): string {
  return section.sizing.databaseSize ?? db.storageSize;
}

/** The restore volume's size: `restoreTest.volumeSize`, else the data volume's. */
function restoreVolumeSize(section: BackupsSection, db: Pick<Database, 'storageSize'>): string {
  return section.restoreTest.volumeSize ?? db.storageSize;
}

/** The backup jobs of `section` against the database `db`: the section mapped onto lib/backups' props. */
export function backupPlan(section: BackupsSection, db: Database): BackupPlan {
  return new BackupPlan({
    databaseSize: databaseSize(section, db),
    restoreVolumeSize: restoreVolumeSize(section, db),
    throughputMiBPerSecond: section.sizing.throughputMiBPerSecond,
    restoreTestResources: section.restoreTest.resources,
    heartbeat: section.heartbeat !== false,
    backupRole: db.backupRole,
    walgSecrets: db.archive.secrets,
  });
}

/** Config problems the section's schema cannot see: they need the database's port, and the Pushgateway's. */
export function sectionProblems(section: BackupsSection, config: EnvironmentConfig, ports: Ports): string[] {
  const needs = [
    portProblem(ports, 'database', config, ['backups'], 'the backup jobs back up the PostgreSQL of the database capability'),
    portProblem(ports, 'vault', config, ['backups'], 'the backup jobs read their credentials from Vault'),
    section.restoreTest.pushResults ? portProblem(ports, 'pushgateway', config, ['backups', 'restoreTest', 'pushResults'],
      'the restore test pushes its result to a Pushgateway, and none is provided (gitops.addons.pushgateway with metrics on)') : undefined,
  ].filter((p): p is string => p !== undefined);
  if (!ports.database) return needs;
  const problems: string[] = [...needs];
  const at = (path: readonly string[]) => `${config.file}:${config.lineOf(path)}: ${path.join('.')}`;
  // The line of a defaulted field is its section's nearest written ancestor (lineOf finds it).
  const db = ports.database;
  const volume = restoreVolumeSize(section, db);
  if (bytes(volume) < bytes(db.storageSize)) {
    problems.push(`${at(['backups', 'restoreTest', 'volumeSize'])}: expected at least database.postgres.storage.size (${db.storageSize}): the restore volume must hold the whole database, found "${volume}"`);
  }
  const size = databaseSize(section, db);
  if (bytes(size) > bytes(db.storageSize)) {
    problems.push(`${at(['backups', 'sizing', 'databaseSize'])}: expected at most database.postgres.storage.size (${db.storageSize}): the database cannot outgrow its volume, found "${size}"`);
  }
  const limits = backupPlan(section, db).deadlines;
  const schedules: Array<[BackupJobKey, string | undefined]> = [
    ['baseBackup', section.schedules.baseBackup], ['retention', section.schedules.retention], ['walIntegrity', section.schedules.walIntegrity],
    ['restoreTest', section.schedules.restoreTest], ['heartbeat', section.heartbeat === false ? undefined : section.heartbeat.schedule],
  ];
  for (const [job, schedule] of schedules) {
    if (schedule === undefined) continue;
    const parsed = parseCron(schedule);
    if (typeof parsed === 'string') continue;
    const gap = cronCadence(parsed).minGapSeconds;
    if (limits[job] >= gap) {
      const path = job === 'heartbeat' ? ['backups', 'heartbeat', 'schedule'] : ['backups', 'schedules', job];
      const sized = job === 'baseBackup' || job === 'restoreTest'
        ? ` (sized from sizing.databaseSize ${size} at sizing.throughputMiBPerSecond ${section.sizing.throughputMiBPerSecond})` : '';
      problems.push(`${at(path)}: expected runs further apart than the job's deadline of ${formatSeconds(limits[job])}${sized}, ` +
        `or a run could still be going when the next is due, found "${schedule}" (runs ${formatSeconds(gap)} apart)`);
    }
  }
  const rpoSeconds = section.restoreTest.rpoMinutes * 60;
  const beat = section.heartbeat === false ? 0 : cadenceMax(section.heartbeat.schedule);
  const floor = db.archiveTimeoutSeconds + beat;
  if (rpoSeconds <= floor) {
    problems.push(`${at(['backups', 'restoreTest', 'rpoMinutes'])}: expected an RPO above database.postgres.archiveTimeoutSeconds (${db.archiveTimeoutSeconds} s)` +
      `${beat ? ` plus the heartbeat interval (${beat} s)` : ''}: the archive is always that far behind, found ${section.restoreTest.rpoMinutes} (${rpoSeconds} s)`);
  }
  return problems;
}

function cadenceMax(schedule: string): number {
  const parsed = parseCron(schedule);
  return typeof parsed === 'string' ? 0 : cronCadence(parsed).maxGapSeconds;
}

/**
 * The Pushgateway the restore test pushes to: the metrics capability's port. Asking to push
 * while nothing provides one is a config error naming both sections (sectionProblems).
 */
export function pushTarget(section: BackupsSection, ports: Ports): { endpoint: ForeignEndpoint; port: number; url: string } | undefined {
  // check() refuses pushResults without the port.
  const p = ports.pushgateway;
  if (!section.restoreTest.pushResults || !p) return undefined;
  return { endpoint: { kind: 'foreign', name: 'pushgateway', namespace: p.namespace, podLabels: p.podLabels }, port: p.podPort, url: p.url };
}

/** The Pushgateway grouping path of the restore test's result. */
export function pushGroup(config: EnvironmentConfig): string {
  return `job/${BACKUP_JOBS.restoreTest}/namespace/${config.namespace.name}`;
}

/** The heartbeat the database creates a role for, when it is on. */
export function heartbeatPort(section: BackupsSection): HeartbeatPort | undefined {
  if (section.heartbeat === false) return undefined;
  const [schema, table] = section.heartbeat.table.split('.');
  return {
    database: section.restoreTest.database, schema, table, secretPath: HEARTBEAT_SECRET,
    writer: `${BACKUP_JOBS.heartbeat} (backups)`, databaseSetting: 'backups.restoreTest.database',
  };
}

/** The jobs that connect to PostgreSQL (base backup, wal-verify) or PgBouncer (heartbeat): with TLS on, they verify it. */
const CONNECTING_JOBS: readonly BackupJobKey[] = ['baseBackup', 'walIntegrity', 'heartbeat'];

export const backups: Capability<Section> & { readonly id: 'backups' } = {
  id: 'backups',
  provides(section) {
    const heartbeat = heartbeatPort(section);
    return heartbeat ? { heartbeat } : {};
  },
  check: sectionProblems,
  vaultReaders: (section, _config, ports) => backupPlan(section, ports.database!).readers,
  files(_section, _config, extras) {
    // The jobs' own S3 credentials (the database capability writes PostgreSQL's).
    const db = extras.ports.database!;
    return BACKUP_ARCHIVE_ACCESS.map((access) => db.archive.iamPolicy(access));
  },
  flows(graph, section, config, extras) {
    const db = extras.ports.database!;
    const ns = config.namespace.name;
    const tcp = (port: number) => [{ port, protocol: 'TCP' as const }];
    const job = (key: BackupJobKey) => workloadEndpoint(BACKUP_JOBS[key], ns);
    for (const key of backupPlan(section, db).jobs) graph.addWorkload(job(key));
    for (const key of ['baseBackup', 'walIntegrity'] as const) {
      graph.addFlow({ from: job(key), to: db.primary.endpoint, ports: tcp(db.primary.port),
        purpose: key === 'baseBackup' ? 'streams the base backup (BASE_BACKUP over the replication protocol)' : 'asks for the current WAL segment (wal-verify)', declaredBy: 'backups' });
    }
    for (const key of ['baseBackup', 'retention', 'walIntegrity', 'restoreTest'] as const) {
      graph.addFlow({ from: job(key), to: db.archive.store, ports: tcp(db.archive.storePort), purpose: 'reads and writes the WAL-G archive', declaredBy: 'backups' });
    }
    if (section.heartbeat !== false) {
      graph.addFlow({ from: job('heartbeat'), to: db.pooler.endpoint, ports: tcp(db.pooler.port),
        purpose: 'writes a heartbeat row through PgBouncer', declaredBy: 'backups' });
    }
    const push = pushTarget(section, extras.ports);
    if (push) graph.addFlow({ from: job('restoreTest'), to: push.endpoint, ports: tcp(push.port), purpose: 'pushes the restore test\'s result', declaredBy: 'backups' });
  },
  charts(app, section, context) {
    const { config, ports } = context;
    const db = ports.database!;
    const ns = config.namespace.name;
    const chart = new Chart(app, 'backups', { namespace: ns, disableResourceNameHashes: true });
    const plan = backupPlan(section, db);
    const limits = plan.deadlines;
    const readers = new Map(plan.readers.map((r) => [r.name, r]));
    const vault = (key: BackupJobKey) => {
      const pod = new PodExtensionPoint(BACKUP_JOBS[key]);
      ports.vault!.inject(pod, readers.get(BACKUP_JOBS[key])!, true);
      // The jobs that connect to PostgreSQL or PgBouncer verify it when it speaks TLS (db.clientTlsEnv names the CA file).
      if (db.tls && CONNECTING_JOBS.includes(key)) mountCaBundle(pod, db.tls.caBundle);
      return pod;
    };
    const image = db.image;
    const scripts = new BackupScripts(chart, 'Scripts');
    const primary: EnvEntry[] = [
      { name: 'PGHOST', value: db.primary.host },
      { name: 'PGPORT', value: String(db.primary.port) },
      { name: 'PGUSER', value: db.backupRole.name },
      { name: 'PGDATABASE', value: 'postgres' },
      // WAL-G connects with pgx, which reads PGSSLMODE and PGSSLROOTCERT like libpq (wal-g v3.0.9
      // internal/databases/postgres/connect.go: pgx.ParseConfig(""); backup_push_handler.go: pgconn.Connect(ctx, "replication=yes")).
      ...db.clientTlsEnv,
    ];
    const common = (key: BackupJobKey) => ({ name: BACKUP_JOBS[key], image, scripts, resources: section.resources,
      activeDeadlineSeconds: limits[key], extension: vault(key) });

    new BackupJob(chart, 'BaseBackup', {
      ...common('baseBackup'), schedule: section.schedules.baseBackup, script: BACKUP_SCRIPT_FILES.baseBackup,
      env: [...db.archive.env('base-backup'), ...primary],
    });
    new BackupJob(chart, 'Retention', {
      ...common('retention'), schedule: section.schedules.retention, script: BACKUP_SCRIPT_FILES.retention,
      env: [...db.archive.env('retention'), { name: BACKUP_SCRIPT_ENV.retainFull, value: String(section.retainFull) }],
    });
    new BackupJob(chart, 'WalIntegrity', {
      ...common('walIntegrity'), schedule: section.schedules.walIntegrity, script: BACKUP_SCRIPT_FILES.walVerify,
      env: [...db.archive.env('read-only'), ...primary],
    });
    const rt = section.restoreTest;
    const push = pushTarget(section, ports);
    new RestoreTestJob(chart, 'RestoreTest', {
      name: BACKUP_JOBS.restoreTest,
      schedule: section.schedules.restoreTest,
      image,
      scripts,
      resources: plan.restoreTestResources,
      activeDeadlineSeconds: limits.restoreTest,
      volumeSize: restoreVolumeSize(section, db),
      walgEnv: db.archive.env('read-only'),
      rpoSeconds: rt.rpoMinutes * 60,
      database: rt.database,
      superuser: rt.superuser,
      recency: { table: rt.recency.table ?? (section.heartbeat === false ? '' : section.heartbeat.table), column: rt.recency.column },
      rowFloors: rt.criticalTables,
      amcheck: rt.amcheck,
      pushgateway: push ? { url: push.url, group: pushGroup(config) } : undefined,
      extension: vault('restoreTest'),
    });
    if (section.heartbeat !== false) {
      const [schema, table] = section.heartbeat.table.split('.');
      new BackupJob(chart, 'Heartbeat', {
        ...common('heartbeat'), schedule: section.heartbeat.schedule, script: BACKUP_SCRIPT_FILES.heartbeat, resources: section.heartbeat.resources,
        tmpSize: '16Mi',
        env: [
          { name: 'PGHOST', value: db.pooler.host },
          { name: 'PGPORT', value: String(db.pooler.port) },
          { name: 'PGDATABASE', value: rt.database },
          { name: 'PGCONNECT_TIMEOUT', value: '10' },
          ...db.clientTlsEnv,
          { name: BACKUP_SCRIPT_ENV.heartbeatSchema, value: schema },
          { name: BACKUP_SCRIPT_ENV.heartbeatTable, value: table },
          { name: BACKUP_SCRIPT_ENV.heartbeatRetentionDays, value: String(section.heartbeat.retentionDays) },
        ],
        // A missed minute is not worth catching up: the next run writes the next row.
        startingDeadlineSeconds: 30,
        backoffLimit: 0,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 1,
      });
    }

    const prometheus = ports.prometheus;
    if (prometheus) {
      new AlertRules(chart, 'Alerts', {
        name: 'pronto-backups', component: 'backup', selectorLabels: prometheus.selectorLabels,
        groups: backupRuleGroups({
          namespace: ns,
          cronJobs: { baseBackup: BACKUP_JOBS.baseBackup, walIntegrity: BACKUP_JOBS.walIntegrity, restoreTest: BACKUP_JOBS.restoreTest },
          pushedLabels: push ? { job: BACKUP_JOBS.restoreTest, namespace: ns } : undefined,
          runbookBaseUrl: prometheus.runbookBaseUrl,
        }),
      });
    }
    return [chart];
  },
};
