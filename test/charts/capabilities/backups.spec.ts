/**
 * The backups capability: its CronJobs (policies, Vault pre-populate-only, storage credentials
 * of one access level per job, each IAM policy evaluated against what a stolen credential could
 * do, no credential anywhere), its flows, its alerts, the
 * shipped environments with it on (gate and capacity guard), off (byte-identical), and the
 * config errors (file:line, field, expected, found).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { BACKUP_JOBS, DEADLINES, HEARTBEAT_SECRET, backupPlan } from '../../../charts/capabilities/backups';
import { environmentPorts } from '../../../charts/build-app';
import { POSTGRES_WORKLOAD, WalgAccess, objectStoreHost, walgRequests } from '../../../lib/database';
import { ProntoCharts } from '../../../charts/build-app';
import { EnvironmentConfig, parseEnvironment } from '../../../config/load';
import { BACKUP_SCRIPT_FILES, RESTORE_TEST_ENV } from '../../../lib/backups';
import { ROLES_JOB, ROLES_JOB_FILES } from '../../../lib/database';
import { Manifest, bytes, cpuMillis } from '../../../lib/core';
import { checkCapacity, peakDemand, workloadPeaks } from '../../../lib/namespace';
import { runGate } from '../../../lib/validation';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, IamPolicy, allows, buildEnvironment, chartsObjects, configProblems, dataTierOf, everyPodTemplate, listable, named } from '../../helpers';
import { DATABASE_SECTIONS, FILE, load } from '../../lib/backups/fixture';

const BASE = `${VALID_ENV}${DATABASE_SECTIONS}`;
const ON = `${BASE}backups: {}\n`;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const cronJobs = (manifests: Manifest[]) => manifests.filter((m) => m.kind === 'CronJob') as any[];
const cronJob = (manifests: Manifest[], name: string) => cronJobs(manifests).find((m) => m.metadata.name === name);
const podOf = (job: any) => job.spec.jobTemplate.spec.template;
const envOf = (job: any): Record<string, string> => Object.fromEntries((podOf(job).spec.containers[0].env ?? []).map((e: any) => [e.name, e.value]));

describe('the backups capability', () => {
  const config = load(ON);
  const on = buildEnvironment(config);
  const section = config.capabilities.backups!;
  /** The backups chart's CronJobs (the database capability has one of its own, pg-roles). */
  const jobs = cronJobs(on.charts.capabilities.find((c) => c.node.id === 'backups')!.toJson());
  /** With metrics on and a Pushgateway. */
  const full = buildEnvironment(load(`${BASE}metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" }, pushgateway: { url: "http://prometheus-pushgateway.monitoring.svc:9091" } }\nbackups:\n  restoreTest:\n    pushResults: true\n`));

  test('its section is defaulted: daily base backup, monthly restore test, 7 full backups, heartbeat every two minutes', () => {
    expect(section.schedules).toEqual({ baseBackup: '15 2 * * *', retention: '15 5 * * *', walIntegrity: '45 5 * * *', restoreTest: '30 6 1 * *' });
    expect(section.retainFull).toBe(7);
    expect(section.heartbeat).toMatchObject({ schedule: '*/2 * * * *', table: 'ops.heartbeat', retentionDays: 7 });
    expect(section.restoreTest).toMatchObject({ rpoMinutes: 15, database: 'pronto', amcheck: 'all', pushResults: false });
  });

  test('one CronJob per job, in a chart of its own, each Forbid with starting and total deadlines, retries and history limits', () => {
    expect(on.charts.capabilities.map((c) => c.node.id)).toContain('backups');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(Object.values(BACKUP_JOBS).sort());
    const limits = backupPlan(section, environmentPorts(config).database!).deadlines;
    for (const job of jobs) {
      const key = (Object.keys(BACKUP_JOBS) as Array<keyof typeof BACKUP_JOBS>).find((k) => BACKUP_JOBS[k] === job.metadata.name)!;
      expect(job.spec).toMatchObject({ concurrencyPolicy: 'Forbid', timeZone: 'Etc/UTC' });
      expect(job.spec.startingDeadlineSeconds).toBeGreaterThan(0);
      expect(job.spec.successfulJobsHistoryLimit).toBeGreaterThanOrEqual(1);
      expect(job.spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
      expect(job.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(limits[key]);
      expect(job.spec.jobTemplate.spec.backoffLimit).toBeGreaterThanOrEqual(0);
      expect(podOf(job).spec.restartPolicy).toBe('Never');
    }
    expect(cronJob(on.manifests, BACKUP_JOBS.baseBackup).spec.schedule).toBe(section.schedules.baseBackup);
    expect(cronJob(on.manifests, BACKUP_JOBS.restoreTest).spec.schedule).toBe(section.schedules.restoreTest);
    expect(cronJob(on.manifests, BACKUP_JOBS.restoreTest).spec.jobTemplate.spec.backoffLimit).toBe(0);
  });

  test('deadlines are sized from the database size and the throughput (20Gi at 25 MiB/s: 820 s of transfer)', () => {
    const transfer = Math.ceil(bytes('20Gi') / (25 * 1024 * 1024));
    expect(backupPlan(section, environmentPorts(config).database!).deadlines).toMatchObject({
      baseBackup: DEADLINES.baseBackupFixedSeconds + 2 * transfer, restoreTest: DEADLINES.restoreTestFixedSeconds + 3 * transfer,
    });
    const bigger = load(`${BASE}backups:\n  sizing: { databaseSize: 10Gi, throughputMiBPerSecond: 10 }\n`);
    expect(backupPlan(bigger.capabilities.backups!, environmentPorts(bigger).database!).deadlines.baseBackup).toBe(DEADLINES.baseBackupFixedSeconds + 2 * 1024);
  });

  test('each job runs its script from the checksummed ConfigMap in the PostgreSQL image (it contains WAL-G)', () => {
    const scripts = on.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === 'pg-backup-scripts') as any;
    expect(Object.keys(scripts.data).sort()).toEqual(Object.values(BACKUP_SCRIPT_FILES).sort());
    const image = config.capabilities.database!.postgres.image;
    for (const job of jobs) {
      const pod = podOf(job);
      expect(pod.spec.containers[0].image).toBe(`${image.repository}:${image.tag}`);
      expect(pod.spec.containers[0].command[0]).toBe('sh');
      expect(Object.keys(scripts.data)).toContain(path.basename(pod.spec.containers[0].command[1]));
      expect(pod.metadata.annotations['pronto.io/config-checksum']).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(pod.spec.volumes).toContainEqual({ name: 'scripts', configMap: { name: 'pg-backup-scripts', defaultMode: 0o444 } });
    }
    const base = podOf(cronJob(on.manifests, BACKUP_JOBS.baseBackup)).spec.containers[0];
    expect(scripts.data[path.basename(base.command[1])]).toMatch(/^exec wal-g backup-push$/m);
    expect(scripts.data[BACKUP_SCRIPT_FILES.retention]).toContain('wal-g delete retain FULL "$WALG_RETAIN_FULL" --use-sentinel-time --confirm');
    expect(envOf(cronJob(on.manifests, BACKUP_JOBS.retention)).WALG_RETAIN_FULL).toBe('7');
    expect(scripts.data[BACKUP_SCRIPT_FILES.walVerify]).toContain('wal-g wal-verify integrity timeline --json');
  });

  test('the base backup and the WAL check connect to the primary\'s Service, never PgBouncer; the heartbeat goes through PgBouncer', () => {
    for (const name of [BACKUP_JOBS.baseBackup, BACKUP_JOBS.walIntegrity]) {
      expect(envOf(cronJob(on.manifests, name))).toMatchObject({ PGHOST: 'postgres.pronto.svc.cluster.local', PGPORT: '5432', PGUSER: 'walg_backup' });
    }
    expect(envOf(cronJob(on.manifests, BACKUP_JOBS.heartbeat))).toMatchObject({ PGHOST: 'pgbouncer.pronto.svc.cluster.local', PGPORT: '6432', PGDATABASE: 'pronto' });
  });

  test('every job gets its Vault secrets from an agent that only pre-populates (the Job can complete), declared as a Vault reader', () => {
    const readers = backupPlan(section, environmentPorts(config).database!).readers;
    expect(readers.map((r) => r.name).sort()).toEqual(Object.values(BACKUP_JOBS).sort());
    for (const job of jobs) {
      const a = podOf(job).metadata.annotations;
      expect(a['vault.hashicorp.com/agent-inject']).toBe('true');
      expect(a['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
      expect(a['vault.hashicorp.com/role']).toBe(`pronto-${job.metadata.name}`);
    }
    const files = on.charts.files.map((f) => f.path);
    for (const name of Object.values(BACKUP_JOBS)) expect(files).toContain(`vault/policies/pronto-${name}.hcl`);
  });

  describe('the archive\'s credentials: one level per job, each IAM policy exactly what its WAL-G commands need (attacks on a stolen Vault file)', () => {
    /** Every pod that runs WAL-G, from the output: its workload and its Vault annotations. */
    const walgPods = everyPodTemplate(on.manifests)
      .map(({ template }) => ({ name: template.metadata.labels['app.kubernetes.io/name'] as string, a: template.metadata.annotations ?? {} }))
      .filter((p) => p.a['vault.hashicorp.com/agent-inject-secret-walg-aws'] !== undefined);
    const file = (p: string) => on.charts.files.find((f) => f.path === p)?.text;
    /** The IAM policy of the credentials a pod's Vault file holds: named after the KV entry (object-store/<entry>.json). */
    const policyOf = (name: string) => {
      const pod = walgPods.find((p) => p.name === name)!;
      const entry = pod.a['vault.hashicorp.com/agent-inject-secret-walg-aws'].split('/').pop();
      const text = file(`object-store/${entry}.json`);
      if (text === undefined) throw new Error(`${name}: no IAM policy written for its credentials ${entry}`);
      return JSON.parse(text) as IamPolicy;
    };
    const prefix = dataTierOf(config).walgPrefix.replace(/^s3:\/\//, '');
    const [bucket] = prefix.split('/');
    /** The key below the bucket of an object ARN or of `<bucket>/<key>`. */
    const keyOf = (object: string) => object.replace(/^arn:aws:s3:::/, '').slice(bucket.length + 1);
    const key = (rest: string) => `arn:aws:s3:::${prefix}/${rest}`;
    const wal = key('wal_005/000000010000000000000007.lz4');
    const base = key('basebackups_005/base_000000010000000000000004/tar_partitions/part_1.tar.lz4');
    const sentinel = key('basebackups_005/base_000000010000000000000004_backup_stop_sentinel.json');
    const otherCluster = `arn:aws:s3:::${bucket}/elsewhere/16/wal_005/000000010000000000000007.lz4`;
    const can = (name: string, action: string, resource: string) => allows(policyOf(name), action, resource);

    test('every WAL-G pod has credentials of its own level, and its IAM policy is written beside the manifests', () => {
      expect(walgPods.map((p) => p.name).sort()).toEqual([POSTGRES_WORKLOAD, BACKUP_JOBS.baseBackup, BACKUP_JOBS.retention, BACKUP_JOBS.walIntegrity, BACKUP_JOBS.restoreTest].sort());
      const entry = (name: string) => walgPods.find((p) => p.name === name)!.a['vault.hashicorp.com/agent-inject-secret-walg-aws'];
      expect(new Set([POSTGRES_WORKLOAD, BACKUP_JOBS.baseBackup, BACKUP_JOBS.retention, BACKUP_JOBS.walIntegrity].map(entry)).size).toBe(4);
      // The WAL check and the restore test share the read-only level.
      expect(entry(BACKUP_JOBS.walIntegrity)).toBe(entry(BACKUP_JOBS.restoreTest));
      // Each pod's Vault policy reads exactly its own level's entry, no other.
      for (const pod of walgPods) {
        const hcl = file(`vault/policies/${pod.a['vault.hashicorp.com/role']}.hcl`)!;
        const levels = [...hcl.matchAll(/walg-s3-[a-z-]+/g)].map((m) => m[0]);
        expect({ pod: pod.name, levels: [...new Set(levels)] }).toEqual({ pod: pod.name, levels: [pod.a['vault.hashicorp.com/agent-inject-secret-walg-aws'].split('/').pop()] });
      }
      for (const f of on.charts.files.filter((x) => x.path.startsWith('object-store/'))) {
        expect(f.text).not.toMatch(/AKIA|aws_secret_access_key|secret_access_key|"Principal"/);
      }
    });

    test('a stolen PostgreSQL pod (its archive credentials) cannot delete or overwrite the backups, nor read them: it only writes WAL', () => {
      for (const target of [wal, base, sentinel]) expect(can(POSTGRES_WORKLOAD, 's3:DeleteObject', target)).toBe(false);
      expect(can(POSTGRES_WORKLOAD, 's3:PutObject', base)).toBe(false);
      expect(can(POSTGRES_WORKLOAD, 's3:PutObject', sentinel)).toBe(false);
      expect(can(POSTGRES_WORKLOAD, 's3:GetObject', base)).toBe(false);
      expect(can(POSTGRES_WORKLOAD, 's3:PutObject', otherCluster)).toBe(false);
      expect(listable(policyOf(POSTGRES_WORKLOAD), bucket, keyOf(`${prefix}/basebackups_005/`))).toBe(false);
      // What wal-push needs: the upload, the overwrite check's read, and the 404 of a segment not archived yet.
      expect(can(POSTGRES_WORKLOAD, 's3:PutObject', wal)).toBe(true);
      expect(can(POSTGRES_WORKLOAD, 's3:GetObject', wal)).toBe(true);
      expect(listable(policyOf(POSTGRES_WORKLOAD), bucket, keyOf(wal))).toBe(true);
    });

    test('the base-backup job writes base backups and nothing else: no read, no list, no delete, no WAL', () => {
      expect(can(BACKUP_JOBS.baseBackup, 's3:PutObject', base)).toBe(true);
      expect(can(BACKUP_JOBS.baseBackup, 's3:AbortMultipartUpload', base)).toBe(true);
      for (const action of ['s3:GetObject', 's3:DeleteObject']) for (const target of [wal, base, sentinel]) expect(can(BACKUP_JOBS.baseBackup, action, target)).toBe(false);
      expect(can(BACKUP_JOBS.baseBackup, 's3:PutObject', wal)).toBe(false);
      expect(listable(policyOf(BACKUP_JOBS.baseBackup), bucket, keyOf(`${prefix}/`))).toBe(false);
    });

    test('only the retention job deletes, and it writes nothing; the WAL check and the restore test only read', () => {
      const deleters = walgPods.filter((p) => can(p.name, 's3:DeleteObject', wal) || can(p.name, 's3:DeleteObject', base)).map((p) => p.name);
      expect(deleters).toEqual([BACKUP_JOBS.retention]);
      expect(can(BACKUP_JOBS.retention, 's3:DeleteObject', otherCluster)).toBe(false);
      for (const target of [wal, base]) expect(can(BACKUP_JOBS.retention, 's3:PutObject', target)).toBe(false);
      expect(can(BACKUP_JOBS.retention, 's3:GetObject', wal)).toBe(false);
      expect(can(BACKUP_JOBS.retention, 's3:GetObject', sentinel)).toBe(true);
      for (const job of [BACKUP_JOBS.walIntegrity, BACKUP_JOBS.restoreTest]) {
        const actions = new Set(policyOf(job).Statement.flatMap((s) => s.Action));
        expect([...actions].sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
        expect(can(job, 's3:GetObject', base)).toBe(true);
      }
    });

    test('every level allows each S3 request its WAL-G commands make (WAL-G v3.0.9), and the key goes only where data is encrypted or decrypted', () => {
      const level = (name: string) => walgPods.find((p) => p.name === name)!.a['vault.hashicorp.com/agent-inject-secret-walg-aws'].split('walg-s3-').pop() as WalgAccess;
      for (const pod of walgPods) {
        const policy = policyOf(pod.name);
        for (const r of walgRequests(level(pod.name))) {
          const object = `${prefix}/${r.folder === '*' ? 'wal_005/' : `${r.folder}/`}x`;
          const ok = r.action === 's3:ListBucket' ? listable(policy, bucket, keyOf(object)) : allows(policy, r.action, `arn:aws:s3:::${object}`);
          expect({ pod: pod.name, request: `${r.action} ${r.folder}`, ok }).toEqual({ pod: pod.name, request: `${r.action} ${r.folder}`, ok: true });
        }
        // The libsodium key: in the pods that encrypt or decrypt, never in the retention job's.
        expect({ pod: pod.name, key: pod.a['vault.hashicorp.com/agent-inject-secret-walg-key'] !== undefined })
          .toEqual({ pod: pod.name, key: pod.name !== BACKUP_JOBS.retention });
      }
      // Versioning is stated, so WAL-G never lists or deletes object versions (actions no policy grants).
      for (const job of [BACKUP_JOBS.baseBackup, BACKUP_JOBS.retention, BACKUP_JOBS.walIntegrity, BACKUP_JOBS.restoreTest]) {
        expect(envOf(cronJob(on.manifests, job)).S3_ENABLE_VERSIONING).toBe('disabled');
      }
      expect(envOf(cronJob(on.manifests, BACKUP_JOBS.restoreTest)).WALG_PREVENT_WAL_OVERWRITE).toBe('true');
    });
  });

  test('no credential anywhere in the output: env holds file paths only', () => {
    const text = on.manifests.map((m) => stringify(m)).join('---\n');
    expect(text).not.toMatch(/aws_secret_access_key\s*=\s*[^{\s]/);
    expect(text).not.toMatch(/PGPASSWORD: /);
    for (const job of jobs) {
      for (const e of podOf(job).spec.containers[0].env ?? []) expect(`${e.name}=${e.value}`).not.toMatch(/(PASSWORD|SECRET|TOKEN|ACCESS_KEY)[A-Z_]*=/);
    }
    expect(on.manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
  });

  test('the restore test: an emptyDir the size of the database volume, its checks as env, the script\'s WAL-G defaults', () => {
    const job = cronJob(on.manifests, BACKUP_JOBS.restoreTest);
    const pod = podOf(job).spec;
    expect(pod.volumes).toContainEqual({ name: 'restore', emptyDir: { sizeLimit: config.capabilities.database!.postgres.storage.size } });
    expect(pod.volumes).toContainEqual({ name: 'shm', emptyDir: { sizeLimit: '128Mi', medium: 'Memory' } });
    // The volume is in the container's ephemeral storage, so the scheduler finds a node with the room.
    expect(bytes(pod.containers[0].resources.requests['ephemeral-storage'])).toBe(bytes('1Gi') + bytes('20Gi'));
    const env = envOf(job);
    expect(env).toMatchObject({
      [RESTORE_TEST_ENV.rpoSeconds]: String(15 * 60), [RESTORE_TEST_ENV.recencyTable]: 'ops.heartbeat', [RESTORE_TEST_ENV.recencyColumn]: 'beat_at',
      [RESTORE_TEST_ENV.amcheck]: 'all', [RESTORE_TEST_ENV.database]: 'pronto',
    });
    // The fetch commands are the script's WAL-G defaults, not set by the job.
    expect(env[RESTORE_TEST_ENV.fetchCommand]).toBeUndefined();
    expect(env[RESTORE_TEST_ENV.walFetchCommand]).toBeUndefined();
    expect(env[RESTORE_TEST_ENV.pushgatewayUrl]).toBeUndefined();
  });

  test('flows: jobs to PostgreSQL 5432 and to the object store, the heartbeat to PgBouncer, the restore test to the Pushgateway when set', () => {
    const store = objectStoreHost(config.capabilities.database!.walg);
    const flows = on.charts.graph.flows.filter((f) => f.declaredBy === 'backups');
    const has = (from: string, to: string, port: number) => flows.some((f) => f.from.name === from && f.to.name === to && f.ports.some((p) => p.port === port));
    expect(has(BACKUP_JOBS.baseBackup, 'postgres', 5432)).toBe(true);
    expect(has(BACKUP_JOBS.walIntegrity, 'postgres', 5432)).toBe(true);
    expect(flows.some((f) => f.from.name === BACKUP_JOBS.baseBackup && f.to.name === 'pgbouncer')).toBe(false);
    for (const name of [BACKUP_JOBS.baseBackup, BACKUP_JOBS.retention, BACKUP_JOBS.walIntegrity, BACKUP_JOBS.restoreTest]) expect(has(name, store, 443)).toBe(true);
    expect(has(BACKUP_JOBS.heartbeat, 'pgbouncer', 6432)).toBe(true);
    expect(flows.some((f) => f.to.name === 'pushgateway')).toBe(false);
    expect(full.charts.graph.flows).toContainEqual(expect.objectContaining({
      from: expect.objectContaining({ name: BACKUP_JOBS.restoreTest }),
      to: { kind: 'foreign', name: 'pushgateway', namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus-pushgateway' } },
      ports: [{ port: 9091, protocol: 'TCP' }],
    }));
    for (const name of Object.values(BACKUP_JOBS)) expect(on.charts.graph.flows.some((f) => f.from.name === name && f.to.name === 'kube-dns')).toBe(true);
  });

  test('without the heartbeat: no heartbeat job, reader or flow; the recency check reads the table given', () => {
    const off = buildEnvironment(load(`${BASE}backups:\n  heartbeat: false\n  restoreTest:\n    recency: { table: public.orders, column: created_at }\n`));
    expect(cronJob(off.manifests, BACKUP_JOBS.heartbeat)).toBeUndefined();
    expect(off.charts.graph.flows.some((f) => f.from.name === BACKUP_JOBS.heartbeat)).toBe(false);
    expect(envOf(cronJob(off.manifests, BACKUP_JOBS.restoreTest))).toMatchObject({ [RESTORE_TEST_ENV.recencyTable]: 'public.orders', [RESTORE_TEST_ENV.recencyColumn]: 'created_at' });
  });

  test('the heartbeat\'s role: the pg-roles job reads its login (its Vault reader and policy) and creates it with CONNECT on the restore test\'s database and its schema; PostgreSQL\'s pod does not change', () => {
    // In-process for the other configs: the pg-roles SQL and the Vault readers (pod annotations and policies come from them).
    const appRoles = (c: EnvironmentConfig) => dataTierOf(c).rolesJobFiles[ROLES_JOB_FILES.sql];
    const readerSecrets = (c: EnvironmentConfig, name: string) => dataTierOf(c).readers.find((r) => r.name === name)!.secrets;
    const heartbeat = section.heartbeat as Exclude<typeof section.heartbeat, false>;
    const [schema, table] = heartbeat.table.split('.');
    const db = section.restoreTest.database;
    // One Vault entry for the heartbeat job and for pg-roles, so the password cannot drift.
    expect(environmentPorts(config).heartbeat?.secretPath).toBe(HEARTBEAT_SECRET);
    expect(on.charts.files.find((f) => f.path === `vault/policies/pronto-${ROLES_JOB}.hcl`)!.text).toContain(`path "secret/data/pronto/${HEARTBEAT_SECRET}"`);
    expect(on.charts.files.find((f) => f.path === 'vault/policies/pronto-postgres.hcl')!.text).not.toContain(HEARTBEAT_SECRET);
    const ann = podOf(cronJob(on.manifests, ROLES_JOB)).metadata.annotations;
    expect(ann['vault.hashicorp.com/agent-inject-secret-heartbeat-role']).toBe(`secret/data/pronto/${HEARTBEAT_SECRET}`);
    expect(ann['vault.hashicorp.com/agent-inject-template-heartbeat-role']).toContain('{{ .Data.data.username }}\n{{ .Data.data.password }}');
    const sql = named(on.manifests, 'ConfigMap', ROLES_JOB).data[ROLES_JOB_FILES.sql] as string;
    expect(sql).toBe(appRoles(config));
    expect(sql).toContain('\\set writer_user `sed -n 1p /run/secrets/heartbeat-role`');
    expect(sql).toContain(`format('GRANT CONNECT ON DATABASE %I TO %I, %I', d.datname, :'writer_user', current_user)`);
    expect(sql).toContain(`  FROM pg_database d WHERE d.datname = '${db}' \\gexec\n\\connect ${db}\n`);
    expect(sql).toContain(`format('CREATE SCHEMA %I', '${schema}')`);
    expect(sql).toContain(`c.relname = '${table}'`);
    expect(sql).toContain("ALTER ROLE %I LOGIN NOCREATEDB NOCREATEROLE', :'writer_user'");
    // Another table and database: the script follows the config.
    const moved = appRoles(load(`${BASE}backups:\n  heartbeat: { table: public.beats }\n  restoreTest: { database: orders }\n`));
    expect(moved).toContain("WHERE d.datname = 'orders' \\gexec");
    expect(moved).toContain("format('CREATE SCHEMA %I', 'public')");
    // Heartbeat off, or backups off: the SQL and pg-roles' secrets are exactly those without backups.
    const without = load(BASE);
    const noBeat = load(`${BASE}backups:\n  heartbeat: false\n  restoreTest:\n    recency: { table: public.orders, column: created_at }\n`);
    expect(appRoles(without)).not.toContain('writer_user');
    expect(appRoles(noBeat)).toBe(appRoles(without));
    expect(readerSecrets(noBeat, ROLES_JOB)).toEqual(readerSecrets(without, ROLES_JOB));
    expect(readerSecrets(without, ROLES_JOB).map((x) => x.path)).not.toContain(HEARTBEAT_SECRET);
    expect(readerSecrets(config, ROLES_JOB).map((x) => x.path)).toContain(HEARTBEAT_SECRET);
    // On, the heartbeat's part is inserted before the final check: nothing before it changes.
    const head = (text: string) => text.slice(0, text.indexOf('\\if :failed'));
    expect(head(sql).startsWith(head(appRoles(without)))).toBe(true);
    // PostgreSQL's own files, Vault entries and pod are the same with the heartbeat on, off, or no backups at all.
    expect(dataTierOf(config).postgresFiles).toEqual(dataTierOf(without).postgresFiles);
    expect(readerSecrets(config, 'postgres')).toEqual(readerSecrets(without, 'postgres'));
    expect(named(on.manifests, 'StatefulSet', 'postgres')).toEqual(named(buildEnvironment(without).manifests, 'StatefulSet', 'postgres'));
  });

  test('alerts only when metrics are on: a PrometheusRule in the backups chart', () => {
    expect(on.manifests.some((m) => m.kind === 'PrometheusRule' && m.metadata?.name === 'pronto-backups')).toBe(false);
    expect(full.manifests.some((m) => m.kind === 'PrometheusRule' && m.metadata?.name === 'pronto-backups')).toBe(true);
  });

  test('everything passes the gate', () => {
    expect(runGate(on.manifests).findings).toEqual([]);
  });

  test.each(ENVIRONMENTS)('on in the shipped %s: every object passes the gate, and fits the quota raised by the backups\' peak', (env) => {
    const file = `config/${env}.yaml`;
    let text = readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8');
    const added = ['backups'];
    if (!/^database:/m.test(text)) {
      added.push('database');
      // The fixture's database section, and the object store's blocks for the egress policies.
      text = text.replace(/^networkPolicies:\n {2}externalHosts:\n/m, (m) => `${m}    s3.us-east-1.amazonaws.com: [52.95.128.0/21]\n`);
      text = `${text.replace(/\n*$/, '\n')}${DATABASE_SECTIONS.replace(/^secrets: \{\}\n/, '')}`;
    }
    if (!/^backups:/m.test(text)) text = `${text}backups: {}\n`;
    const config = parseEnvironment(text, file);
    const { charts, manifests } = buildEnvironment(config);
    expect(runGate(manifests).findings).toEqual([]);
    expect(charts.capabilities.map((c) => c.node.id)).toContain('backups');
    // The quota grows by exactly what the added sections' workloads take at peak.
    const demand = demandOf(charts, added);
    expect(demand.pods).toBeGreaterThanOrEqual(Object.keys(BACKUP_JOBS).length);
    const quota = manifests.find((m) => m.kind === 'ResourceQuota') as any;
    quota.spec.hard = raised(quota.spec.hard, demand);
    expect(checkCapacity(manifests, config.namespace.name)).toEqual([]);
  });

  test('off (absent or false): the output is byte-identical to the output without it', () => {
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    const render = (text: string) => buildEnvironment(load(text)).manifests.map((m) => JSON.stringify(m)).join('---\n');
    const without = render(BASE);
    expect(render(`${BASE}backups: false\n`)).toBe(without);
    expect(without).not.toContain('pg-base-backup');
  });
});

const QUOTA_LINES = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'pods'] as const;
type QuotaLine = typeof QUOTA_LINES[number];

/** What the workloads of the capabilities `ids` take at peak, per quota line (millicores, bytes, pods). */
function demandOf(charts: ProntoCharts, ids: readonly string[]): Record<QuotaLine, number> {
  const peaks = workloadPeaks(chartsObjects(charts.capabilities.filter((c) => ids.includes(charts.capabilityOf.get(c)!))));
  return Object.fromEntries(QUOTA_LINES.map((line) => [line, peaks.reduce((sum, p) => sum + peakDemand(p, line), 0)])) as Record<QuotaLine, number>;
}

/** A ResourceQuota's `hard` with each line raised by `added`. */
function raised(hard: Record<string, string>, added: Record<QuotaLine, number>): Record<string, string> {
  const out = { ...hard };
  for (const line of QUOTA_LINES) {
    if (out[line] === undefined) continue;
    if (line === 'pods') out[line] = String(Number(out[line]) + added[line]);
    else if (line.endsWith('cpu')) out[line] = `${cpuMillis(out[line]) + added[line]}m`;
    else out[line] = `${Math.ceil((bytes(out[line]) + added[line]) / (1024 * 1024))}Mi`;
  }
  return out;
}

describe('backups config errors name file:line, field, expected and found', () => {
  /** The schema's problems, else the capability's own checks (which need the database section). */
  const problems = (text: string) => configProblems(() => buildEnvironment(load(text)));
  const at = (text: string, needle: string) => `${FILE}:${lineOf(text, needle)}: `;

  test.each([
    ['a retention of 0', '  retainFull: 0\n', 'retainFull',
      'backups.retainFull: expected at least 2 full backups to keep (with 1, a bad newest backup leaves nothing to restore), found 0'],
    ['a restore test more often than base backups', '  schedules:\n    baseBackup: "15 2 * * *"\n    restoreTest: "0 */6 * * *"\n', 'restoreTest:',
      'backups.schedules.restoreTest: expected a restore test no more often than the base backup (schedules.baseBackup "15 2 * * *": 365 runs a year): it would test the same backup again, but runs 1460 times a year, found "0 */6 * * *"'],
    ['a weekly base backup', '  schedules:\n    baseBackup: "15 2 * * 0"\n', 'baseBackup:',
      'backups.schedules.baseBackup: expected a base backup at least daily (runs at most 24 h apart; the PostgresBaseBackupTooOld alert fires after 26 h), but runs can be 7 days apart, found "15 2 * * 0"'],
    ['a restore test every two months', '  schedules:\n    restoreTest: "30 6 1 */2 *"\n', 'restoreTest:',
      'backups.schedules.restoreTest: expected a restore test at least monthly (runs at most 32 days apart; the PostgresRestoreTestTooOld alert fires after 33 days), but runs can be 62 days apart, found "30 6 1 */2 *"'],
    ['a schedule that is not cron', '  schedules:\n    retention: "@daily"\n', 'retention:',
      'backups.schedules.retention: expected a 5-field cron schedule of numbers such as "15 2 * * *" (minute hour day-of-month month day-of-week; no @daily or names), not 1 field(s), found "@daily"'],
    ['an hour out of range', '  schedules:\n    retention: "0 24 * * *"\n', 'retention:',
      'backups.schedules.retention: expected hour values within 0-23 (the hour field has "24"), found "0 24 * * *"'],
    ['a row floor of 0', '  restoreTest:\n    criticalTables:\n      - { table: public.orders, minRows: 0 }\n', 'minRows',
      'backups.restoreTest.criticalTables.0.minRows: expected a floor of at least 1 row (a floor of 0 checks nothing), found 0'],
    ['a table without its schema', '  restoreTest:\n    criticalTables:\n      - { table: orders, minRows: 1 }\n', 'table: orders',
      'backups.restoreTest.criticalTables.0.table: expected schema.table in lower case, such as public.orders, found "orders"'],
    ['heartbeats further apart than the RPO', '  heartbeat: { schedule: "*/30 * * * *" }\n', 'heartbeat:',
      'backups.heartbeat.schedule: expected heartbeats closer together than the RPO (restoreTest.rpoMinutes 15), or the restore test fails with nothing lost, but runs can be 30 min apart, found "*/30 * * * *"'],
    ['no heartbeat and no recency table', '  heartbeat: false\n', 'backups:',
      'backups.restoreTest.recency.table: expected a table whose newest row the restore test measures (such as public.orders with column created_at): the heartbeat is off, so there is no heartbeat table, found nothing'],
    ['a push with no Pushgateway provided', '  restoreTest:\n    pushResults: true\n', 'pushResults',
      'backups.restoreTest.pushResults: the restore test pushes its result to a Pushgateway, and none is provided (gitops.addons.pushgateway with metrics on): turn on metrics and gitops.addons.pushgateway'],
  ])('%s', (_name, extra, needle, message) => {
    const text = `${BASE}backups:\n${extra}`;
    expect(problems(text)).toContain(`${at(text, needle)}${message}`);
  });

  test('a restore volume smaller than the database volume', () => {
    const text = `${BASE}backups:\n  restoreTest:\n    volumeSize: 10Gi\n`;
    expect(problems(text)).toContain(`${at(text, 'volumeSize')}backups.restoreTest.volumeSize: expected at least database.postgres.storage.size (20Gi): the restore volume must hold the whole database, found "10Gi"`);
  });

  test('a deadline longer than the schedule\'s interval (a big database at a low throughput)', () => {
    const text = `${BASE}backups:\n  sizing: { throughputMiBPerSecond: 1 }\n  schedules:\n    baseBackup: "0 */6 * * *"\n`;
    // 1800 s + 2 × 20 GiB at 1 MiB/s = 42760 s, over the 6 h between runs.
    expect(problems(text)).toContain(`${at(text, 'baseBackup:')}backups.schedules.baseBackup: expected runs further apart than the job's deadline of 42760 s ` +
      '(sized from sizing.databaseSize 20Gi at sizing.throughputMiBPerSecond 1), or a run could still be going when the next is due, found "0 */6 * * *" (runs 6 h apart)');
  });

  test('an RPO no longer than archive_timeout plus the heartbeat interval', () => {
    const text = `${BASE}backups:\n  restoreTest:\n    rpoMinutes: 3\n`;
    expect(problems(text)).toContain(`${at(text, 'rpoMinutes')}backups.restoreTest.rpoMinutes: expected an RPO above database.postgres.archiveTimeoutSeconds (60 s) plus the heartbeat interval (120 s): ` +
      'the archive is always that far behind, found 3 (180 s)');
  });

  test('backups without the database capability', () => {
    const text = `${VALID_ENV}secrets: {}\nbackups: {}\n`;
    expect(configProblems(() => load(text))).toContain('backups: expected the "database" capability to be on too (backups needs database), found no "database" section');
  });
});
