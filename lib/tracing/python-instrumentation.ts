import { Construct } from 'constructs';
import type * as OpenTelemetry from '../../imports/opentelemetry.io';
import type { Instrumentation, InstrumentationSpecInitContainerSecurityContext, InstrumentationSpecSamplerType } from '../../imports/opentelemetry.io';
import { ComputeResources, InjectedContainer, recommendedLabels, renderResources, resourceName, restrictedContainerSecurityContext } from '../core';
import { PodExtensionPoint } from '../workload';
import { OTLP_PROTOCOL } from './sdk-env';

/** The pod annotation that asks the operator to inject Python auto-instrumentation; its value names the Instrumentation. */
export const ANNOTATION_INJECT_PYTHON = 'instrumentation.opentelemetry.io/inject-python';
/** The annotation naming the containers to instrument (else the operator picks the first). */
export const ANNOTATION_PYTHON_CONTAINERS = 'instrumentation.opentelemetry.io/python-container-names';
/** The init container the operator injects: it copies the SDK into an emptyDir the app loads it from. */
export const PYTHON_INIT_CONTAINER = 'opentelemetry-auto-instrumentation-python';

export interface PythonInstrumentationProps {
  /** Name of the Instrumentation resource, e.g. `python`. */
  readonly name: string;
  /** OTLP/HTTP base URL of the collector: the operator sets it where the container has no OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** `OTEL_TRACES_SAMPLER` / its argument, for containers that set none. */
  readonly sampler: string;
  readonly ratio: number;
  /** Requests and limits of the injected init container. */
  readonly resources: ComputeResources;
  /** sizeLimit of the emptyDir the SDK is copied into, e.g. `200Mi`. */
  readonly volumeSizeLimit: string;
  /**
   * autoinstrumentation-python image reference. Stating it keeps what is injected in the output (the image
   * policy and the admission policies check it), whichever operator release runs.
   * @default - the default of the operator release that serves the Instrumentation
   */
  readonly image?: string;
}

/**
 * The OpenTelemetry Operator's `Instrumentation` (opentelemetry.io/v1alpha1) for Python:
 * exporter, propagators and sampler (the app's own env wins where both set one), the init
 * container's resources and restricted security context (Pod Security "restricted" would
 * refuse the pod otherwise). {@link addTo} annotates a pod and declares the injected
 * init container, with exactly these resources, for the capacity guard.
 */
export class PythonInstrumentation extends Construct {
  public readonly resource: Instrumentation;
  public readonly name: string;
  private readonly resources: ComputeResources;

  public constructor(scope: Construct, id: string, props: PythonInstrumentationProps) {
    super(scope, id);
    this.name = resourceName(props.name);
    this.resources = props.resources;
    const rendered = renderResources(props.resources);
    const quantities = <T>(m: Record<string, string>, of: (v: string) => T) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, of(v)]));
    // The CRD's bindings are loaded only by an environment that instruments: most synths never need them.
    const {
      Instrumentation: Resource, InstrumentationSpecPropagators, InstrumentationSpecPythonResourceRequirementsLimits,
      InstrumentationSpecPythonResourceRequirementsRequests, InstrumentationSpecPythonVolumeLimitSize,
    } = require('../../imports/opentelemetry.io') as typeof OpenTelemetry;
    this.resource = new Resource(this, 'Resource', {
      metadata: { name: this.name, labels: recommendedLabels({ name: this.name, component: 'tracing' }) },
      spec: {
        exporter: { endpoint: props.endpoint },
        propagators: [InstrumentationSpecPropagators.TRACECONTEXT, InstrumentationSpecPropagators.BAGGAGE],
        sampler: { type: props.sampler as InstrumentationSpecSamplerType, argument: String(props.ratio) },
        // The same restricted context as every container Pronto renders, without ids: one Instrumentation serves
        // every service, and each runs as its own UID and GID, so the copier runs as its pod does (the app reads what it copies).
        initContainerSecurityContext: restrictedContainerSecurityContext() as InstrumentationSpecInitContainerSecurityContext,
        python: {
          image: props.image,
          env: [
            { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: OTLP_PROTOCOL },
            { name: 'OTEL_METRICS_EXPORTER', value: 'none' },
            { name: 'OTEL_LOGS_EXPORTER', value: 'none' },
          ],
          resourceRequirements: {
            requests: quantities(rendered.requests, InstrumentationSpecPythonResourceRequirementsRequests.fromString),
            limits: quantities(rendered.limits, InstrumentationSpecPythonResourceRequirementsLimits.fromString),
          },
          volumeLimitSize: InstrumentationSpecPythonVolumeLimitSize.fromString(props.volumeSizeLimit),
        },
      },
    });
  }

  /** Asks the operator to instrument `container` of the pod, and declares the init container it injects. */
  public addTo(pod: PodExtensionPoint, container: string): InjectedContainer {
    return requestPythonInjection(pod, { instrumentation: this.name, container, resources: this.resources });
  }
}

/**
 * Annotates a pod for the operator's Python injection (the Instrumentation by name, the
 * container by name: the operator would otherwise pick the first) and declares the init
 * container it injects, with the resources the Instrumentation gives it, for the capacity guard.
 */
export function requestPythonInjection(pod: PodExtensionPoint, props: { readonly instrumentation: string; readonly container: string; readonly resources: ComputeResources }): InjectedContainer {
  pod.addPodAnnotation(ANNOTATION_INJECT_PYTHON, props.instrumentation);
  pod.addPodAnnotation(ANNOTATION_PYTHON_CONTAINERS, props.container);
  const injected: InjectedContainer = { name: PYTHON_INIT_CONTAINER, kind: 'init', resources: props.resources };
  pod.declareInjected(injected);
  return injected;
}
