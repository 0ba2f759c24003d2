import { Rule } from '../finding';
import { ARGOCD_RULES } from './argocd-rules';
import { CONTAINER_RULES } from './container-rules';
import { NETWORK_RULES } from './network-rules';
import { OBJECT_RULES } from './object-rules';
import { POD_RULES } from './pod-rules';
import { WORKLOAD_RULES } from './workload-rules';

/** Every rule of the validation gate, in report order. */
export const RULES: Rule[] = [...OBJECT_RULES, ...CONTAINER_RULES, ...POD_RULES, ...WORKLOAD_RULES, ...NETWORK_RULES, ...ARGOCD_RULES];
