import { App } from 'cdk8s';
import { EnvironmentConfig } from '../config/load';
import { NamespaceChart } from './namespace-chart';
import { ServicesChart } from './services-chart';

/** The charts of one environment, in apply order. */
export interface ProntoCharts {
  readonly namespace: NamespaceChart;
  readonly services: ServicesChart;
}

/**
 * Composition root: adds every chart of one environment to `app`. Used by `main.ts`
 * and by the tests, so both build exactly the same thing.
 */
export function buildApp(app: App, config: EnvironmentConfig): ProntoCharts {
  const namespace = new NamespaceChart(app, 'namespace', config);
  const services = new ServicesChart(app, 'services', config);
  services.addDependency(namespace);
  return { namespace, services };
}
