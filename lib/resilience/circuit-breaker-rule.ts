import { Construct } from 'constructs';
import type * as Istio from '../../imports/networking.istio.io';
import type { DestinationRule } from '../../imports/networking.istio.io';
import { BreakerLimits, recommendedLabels, resourceName, serviceHost } from '../core';
import { assertLimits } from './breaker';

export interface CircuitBreakerRuleProps {
  /** The called service: its Service name, which also names the DestinationRule. */
  readonly service: string;
  /** Namespace of the service and of the rule. */
  readonly namespace: string;
  /** The limits every caller applies to it. */
  readonly limits: BreakerLimits;
}

/**
 * An Istio `DestinationRule` (networking.istio.io/v1) named after the called service, for
 * host `<service>.<namespace>.svc.cluster.local`: its connection pool (connections,
 * pending requests, connect timeout) and outlier detection (consecutive 5xx errors, which
 * include 502, 503 and 504, analysis interval, ejection time, ejectable share) from {@link BreakerLimits}.
 * Every value is stated, none is left to Istio's defaults. Applies to every caller in the
 * mesh: the sidecars (CNI data plane) or the namespace's waypoint (ambient).
 */
export class CircuitBreakerRule extends Construct {
  public readonly rule: DestinationRule;
  public readonly host: string;

  public constructor(scope: Construct, id: string, props: CircuitBreakerRuleProps) {
    super(scope, id);
    const { service, namespace, limits } = props;
    assertLimits({ callee: service, limits });
    const name = resourceName(service);
    this.host = serviceHost(service, namespace);
    // The CRD's bindings are loaded only by an environment with a mesh: most synths never need them.
    const { DestinationRule: Resource } = require('../../imports/networking.istio.io') as typeof Istio;
    this.rule = new Resource(this, 'Resource', {
      metadata: { name, namespace, labels: recommendedLabels({ name, component: 'circuit-breaker' }) },
      spec: {
        host: this.host,
        trafficPolicy: {
          connectionPool: {
            tcp: { maxConnections: limits.maxConnections, connectTimeout: `${limits.connectTimeoutMs}ms` },
            http: {
              http1MaxPendingRequests: limits.maxPendingRequests,
              // Active requests: the connections plus the queue; beyond that a call fails at once.
              http2MaxRequests: limits.maxConnections + limits.maxPendingRequests,
            },
          },
          outlierDetection: {
            consecutive5XxErrors: limits.consecutiveErrors,
            interval: `${limits.intervalSeconds}s`,
            baseEjectionTime: `${limits.ejectionSeconds}s`,
            maxEjectionPercent: limits.maxEjectionPercent,
            minHealthPercent: 0,
          },
        },
      },
    });
  }
}
