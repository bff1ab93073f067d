import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { PduFields } from 'smpp'
import { connectEsme, type TestEsme } from '../support/smsc/esme'
import {
  assertNetSmppAvailable,
  startNetSmppSmsc,
  type NetSmppSmsc,
  type NetSmppSubmit,
} from '../support/smsc/net-smpp'

const SYSTEM_ID = 'mail2sms'
const PASSWORD = 'secret'
const HANDSET = '33612345678'

function submitFields(fields: PduFields = {}): PduFields {
  return {
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: 'Shop',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: HANDSET,
    registered_delivery: 1,
    data_coding: 0,
    short_message: Buffer.from('Hello', 'latin1'),
    ...fields,
  }
}

describe('Net::SMPP SMSC (libnet-smpp-perl)', function () {
  let smsc: NetSmppSmsc
  const esmes: TestEsme[] = []

  before(function () {
    try {
      assertNetSmppAvailable()
    } catch (error) {
      if (process.env.CI === 'true') throw error
      console.warn(`    skipped: ${(error as Error).message}`)
      this.skip()
    }
  })

  beforeEach(async function () {
    smsc = await startNetSmppSmsc({ systemId: SYSTEM_ID, password: PASSWORD })
  })

  afterEach(async function () {
    for (const esme of esmes.splice(0)) {
      esme.session.destroy()
      await esme.closed
    }
    await smsc?.close()
  })

  async function bound(): Promise<TestEsme> {
    const esme = await connectEsme(smsc.port)
    esmes.push(esme)
    assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
    return esme
  }

  async function submitted(esme: TestEsme, fields?: PduFields): Promise<NetSmppSubmit> {
    const response = await esme.request('submit_sm', submitFields(fields))
    assert.equal(response.command_status, 0)
    const id = String(response.message_id)
    assert.match(id, /^\d+$/)
    return (await smsc.waitFor((e) => e.event === 'submit' && e.id === id)) as NetSmppSubmit
  }

  it('checks the bind credentials', async function () {
    const esme = await connectEsme(smsc.port)
    esmes.push(esme)
    assert.equal((await esme.bind('transceiver', SYSTEM_ID, 'wrong')).command_status, 0x0e)
    assert.equal((await esme.bind('transceiver', 'nobody', PASSWORD)).command_status, 0x0f)
    assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
    await smsc.waitFor((e) => e.event === 'bind' && e.status === 0)
    const binds = smsc.events.filter((e) => e.event === 'bind').map((e) => e.status)
    assert.deepEqual(binds, [0x0e, 0x0f, 0])
  })

  it('refuses submit_sm before a bind', async function () {
    const esme = await connectEsme(smsc.port)
    esmes.push(esme)
    assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0x04)
  })

  it('logs each submit_sm as a JSON line, octets exactly', async function () {
    const esme = await bound()
    // "@ 5€": @ is septet 0x00, which a C-string reader would cut.
    const septets = Buffer.from([0x00, 0x20, 0x35, 0x1b, 0x65])
    const submit = await submitted(esme, { short_message: septets })
    assert.equal(submit.short_message_hex, '0020351b65')
    assert.equal(submit.source_addr, 'Shop')
    assert.equal(submit.source_addr_ton, 5)
    assert.equal(submit.destination_addr, HANDSET)
    assert.equal(submit.data_coding, 0)
    assert.equal(submit.esm_class, 0)
    assert.equal(submit.registered_delivery, 1)

    const part = Buffer.from('050003070201d83dde42', 'hex') // UDH, then 🙂 in UCS-2
    const udhSubmit = await submitted(esme, {
      esm_class: 0x40,
      data_coding: 8,
      short_message: part,
    })
    assert.equal(udhSubmit.short_message_hex, part.toString('hex'))
    assert.equal(udhSubmit.esm_class, 0x40)
    assert.equal(udhSubmit.data_coding, 8)
    assert.notEqual(udhSubmit.id, submit.id)
    assert.equal(smsc.submits.length, 2)
  })

  it('sends a text delivery receipt with the id it gave', async function () {
    const esme = await bound()
    const submit = await submitted(esme)
    await esme.untilDelivers(1)
    const [receipt] = esme.delivers
    assert.equal(receipt.esmClass, 0x04)
    assert.equal(receipt.sourceAddr, HANDSET)
    assert.equal(receipt.destAddr, 'Shop')
    const text = receipt.shortMessage.toString('latin1')
    assert.match(text, new RegExp(`^id:${submit.id} sub:001 dlvrd:001 submit date:\\d{10} `))
    assert.match(text, / stat:DELIVRD err:000 text:Hello$/)
    const ack = await smsc.waitFor((e) => e.event === 'deliver_resp')
    assert.equal(ack.status, 0)
  })

  it('sends no receipt when registered_delivery does not ask for one', async function () {
    const esme = await bound()
    await submitted(esme, { registered_delivery: 0 })
    // The script writes a receipt right after its submit_sm_resp, so order tells.
    const sentinel = await submitted(esme)
    await esme.untilDelivers(1)
    assert.match(
      esme.delivers[0].shortMessage.toString('latin1'),
      new RegExp(`^id:${sentinel.id} `),
    )
  })

  it('answers enquire_link and unbind', async function () {
    const esme = await bound()
    assert.equal((await esme.request('enquire_link')).command_status, 0)
    assert.equal((await esme.request('unbind')).command, 'unbind_resp')
    await smsc.waitFor((e) => e.event === 'unbind')
  })
})

describe('Net::SMPP SMSC availability check', function () {
  const searchPath = process.env.PATH
  let fakeBin: string | undefined

  afterEach(function () {
    process.env.PATH = searchPath
    if (fakeBin) rmSync(fakeBin, { recursive: true, force: true })
    fakeBin = undefined
  })

  it('says how to install perl and Net::SMPP when perl is missing', function () {
    process.env.PATH = '/nonexistent'
    assert.throws(
      assertNetSmppAvailable,
      /perl is not available .*apt-get install libnet-smpp-perl/,
    )
  })

  it('says how to install Net::SMPP when perl lacks it', async function () {
    // A stand-in perl that fails the way a perl without the module does.
    fakeBin = mkdtempSync(path.join(tmpdir(), 'no-net-smpp-'))
    const fake = path.join(fakeBin, 'perl')
    writeFileSync(fake, '#!/bin/sh\necho "Can\'t locate Net/SMPP.pm in @INC" >&2\nexit 2\n')
    chmodSync(fake, 0o755)
    process.env.PATH = `${fakeBin}:${searchPath}`
    await assert.rejects(
      startNetSmppSmsc({ systemId: SYSTEM_ID, password: PASSWORD }),
      /Net::SMPP is not installed: apt-get install libnet-smpp-perl\nCan't locate Net\/SMPP.pm/,
    )
  })
})
