/** The alert settings: what the config file may say, and how a mistake is named. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { signedWebhooks } from '../../src/alerts/alert-config.js'
import { deliveryIdOf, shownUrl, signatureOf } from '../../src/alerts/webhook-message.js'
import { createHmac } from 'node:crypto'

let dir = ''

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-alert-config-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function configWith(settings: object, env: Record<string, string> = {}): Promise<ReturnType<typeof loadConfig>> {
  const path = join(dir, 'config.json')
  await writeFile(path, JSON.stringify(settings))
  return loadConfig({ data: dir, config: path }, env, dir)
}

describe('alert settings', () => {
  it('default to no webhooks, six attempts and no link', async () => {
    const config = await configWith({})
    expect(signedWebhooks(config.alerts).size).toBe(0)
    expect(config.alertDelivery).toMatchObject({ attempts: 6, timeoutSeconds: 10 })
    expect(config.publicUrl).toBeUndefined()
  })

  it('give a webhook the first three statuses unless it names some, and its secret from the environment', async () => {
    const config = await configWith(
      {
        publicUrl: 'https://synclog.example.org/',
        alerts: { 'district-a': [{ url: 'https://hooks.example.org/a', secretEnv: 'HOOK_SECRET' }] },
      },
      { HOOK_SECRET: 'from-env' },
    )
    expect(signedWebhooks(config.alerts).get('district-a')).toEqual([
      {
        url: 'https://hooks.example.org/a',
        secret: 'from-env',
        secretEnv: 'HOOK_SECRET',
        statuses: ['Failed', 'On Hold', 'Completed with Errors'],
      },
    ])
    expect(config.publicUrl).toBe('https://synclog.example.org')
  })

  it.each([
    [{ 'district-a': [{ url: 'ftp://hooks.example.org', secret: 's' }] }, /alerts\.district-a\.0\.url: an http:\/\/ or https:\/\/ URL/],
    [{ 'district-a': [{ url: 'https://hooks.example.org', secret: '' }] }, /alerts\.district-a\.0\.secret: a non-empty secret/],
    [{ 'district-a': [{ url: 'https://hooks.example.org' }] }, /alerts\.district-a\.0: give either secret or secretEnv/],
    [{ 'district-a': [{ url: 'https://hooks.example.org', secret: 's', statuses: ['Running'] }] }, /alerts\.district-a\.0\.statuses\.0/],
  ])('name the key of a bad webhook', async (alerts, message) => {
    await expect(configWith({ alerts })).rejects.toThrow(message)
  })

  it('refuse to send without the secret an unset variable should hold, naming the key and the variable', async () => {
    const config = await configWith({ alerts: { 'district-a': [{ url: 'https://hooks.example.org', secretEnv: 'UNSET_SECRET' }] } })
    expect(() => signedWebhooks(config.alerts)).toThrow(
      /alerts\.district-a\.0\.secretEnv: the environment variable UNSET_SECRET is not set/,
    )
  })
})

describe('what a delivery carries', () => {
  it('signs the timestamp and the body with the secret, as a receiver recomputes it', () => {
    const body = '{"event":"sync.status"}'
    const expected = createHmac('sha256', 'the secret').update(`1764979200.${body}`).digest('hex')
    expect(signatureOf('the secret', '1764979200', body)).toBe(`sha256=${expected}`)
  })

  it('keeps one delivery id per sync status and URL', () => {
    const id = deliveryIdOf('district-a', 'sync-1', 2, 'https://hooks.example.org/a')
    expect(deliveryIdOf('district-a', 'sync-1', 2, 'https://hooks.example.org/a')).toBe(id)
    expect(deliveryIdOf('district-a', 'sync-1', 3, 'https://hooks.example.org/a')).not.toBe(id)
    expect(deliveryIdOf('district-a', 'sync-1', 2, 'https://hooks.example.org/b')).not.toBe(id)
  })

  it('shows a URL without its user, password, query or fragment', () => {
    expect(shownUrl('https://user:pw@hooks.example.org:8443/x/y?token=abc#frag')).toBe('https://hooks.example.org:8443/x/y')
  })
})
