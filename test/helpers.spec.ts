/**
 * The shared renders of test/helpers.ts: one render per text and file in a module registry,
 * frozen all through, so that a suite cannot change what the next one reads.
 */
import { ConfigError } from '../config/load';
import { VALID_ENV, withQuotaCpu } from './fixtures/environments';
import { renderShipped, renderText } from './helpers';

const FILE = 'config/test.yaml';

test('renderText renders a text once per file name: the same object again, another for another name', () => {
  const first = renderText(VALID_ENV, FILE);
  expect(renderText(VALID_ENV, FILE)).toBe(first);
  const other = renderText(VALID_ENV, 'config/other.yaml');
  expect(other).not.toBe(first);
  expect(other.environment).toBe('other');
  expect(renderShipped('dev')).toBe(renderShipped('dev'));
});

test('a shared render is frozen all through: a change throws where it is made; file texts still format on first read', () => {
  const rendered = renderText(VALID_ENV, FILE);
  const deployment = rendered.manifests.find((m) => m.kind === 'Deployment') as any;
  expect(() => { deployment.spec.replicas = 99; }).toThrow(TypeError);
  expect(() => { deployment.spec.template.spec.containers[0].image = 'evil'; }).toThrow(TypeError);
  expect(() => rendered.manifests.push(deployment)).toThrow(TypeError);
  expect(() => rendered.manifests.sort()).toThrow(TypeError);
  expect(() => { (rendered.kinds as any).Deployment = 0; }).toThrow(TypeError);
  expect(rendered.files.map((f) => f.text.length).every((n) => n > 0)).toBe(true);
});

test('a render that fails is not kept: the same error each time', () => {
  const tooSmall = withQuotaCpu(VALID_ENV, '1m');
  expect(() => renderText(tooSmall, FILE)).toThrow(ConfigError);
  expect(() => renderText(tooSmall, FILE)).toThrow(ConfigError);
});
