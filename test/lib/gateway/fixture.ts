/** A small valid gateway model for the lib/gateway tests. */
import { GatewayModel, IMAGE_PATHS } from '../../../lib/gateway';

const CSP = "default-src 'self'; frame-ancestors 'none'";
export const MODEL: GatewayModel = {
  routes: [
    { path: '/', service: 'web', host: 'web.shop.svc.cluster.local', port: 80, longLivedConnections: false, contentSecurityPolicy: CSP },
    { path: '/live', service: 'live', host: 'live.shop.svc.cluster.local', port: 80, longLivedConnections: true, contentSecurityPolicy: `${CSP}; connect-src 'self' wss:` },
  ],
  ports: { http: 8080, https: 8443, health: 8081 },
  tls: { mode: 'loadBalancer' },
  trustedProxies: ['10.0.0.0/8', 'fd00::/8'],
  realIpHeader: 'X-Forwarded-For',
  rateLimits: { requestsPerSecond: 20, burst: 40, strictRequestsPerMinute: 10, strictBurst: 5, strictPaths: ['/login'], connectionsPerClient: 50, zoneSizeMi: 10 },
  headers: { hstsMaxAgeSeconds: 31536000, hstsIncludeSubDomains: true, hstsPreload: false, defaultContentSecurityPolicy: CSP, frameOptions: 'DENY', referrerPolicy: 'no-referrer', permissionsPolicy: 'camera=()' },
  waf: { paranoiaLevel: 2, inboundAnomalyThreshold: 7, outboundAnomalyThreshold: 4, allowedMethods: ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'], requestBodyLimitBytes: 1048576, requestBodyNoFilesLimitBytes: 262144, crsSetupVersion: 4180 },
  timeouts: { connectSeconds: 5, readSeconds: 60, longLivedSeconds: 3600, clientHeaderSeconds: 10, clientBodySeconds: 10, keepaliveSeconds: 15 },
  hosts: ['shop.example.com'],
  blockedPaths: ['/metrics', '/health'],
  drainSeconds: 60,
  workerProcesses: 1,
  workerConnections: 1024,
  paths: IMAGE_PATHS,
};

