/** A synthesized Kubernetes object as plain JSON: what the gates and checks read. */
export type Manifest = Record<string, any>;
