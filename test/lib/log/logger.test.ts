import assert from 'node:assert/strict'
import { createLogger, lineLogger, lineSink } from '../../../lib/log'
import { isAcceptedStepNotice, writeHarakaItem } from '../../../lib/log/haraka-lines'

function capture(format: 'logfmt' | 'json', level: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: string[] = []
  const logger = createLogger({
    service: 'worker',
    format,
    level,
    write: (l) => lines.push(l),
    now: () => Date.UTC(2026, 11, 6, 10, 0, 0),
  })
  return { lines, logger }
}

describe('lib/log logger', () => {
  it('writes time, level, service, event, then the fields, in both formats', () => {
    const a = capture('logfmt')
    a.logger.info('sms.submitted', { trace: 'AB12.1', sms: 7, message_ids: ['m1', 'm2'] })
    assert.deepEqual(a.lines, [
      'time=2026-12-06T10:00:00.000Z level=info service=worker event=sms.submitted trace=AB12.1 sms=7 message_ids=m1,m2',
    ])
    const b = capture('json')
    b.logger.warn('sms.failed', {
      trace: 'AB12.1',
      sms: 7,
      error: 'ESME_RINVDSTADR: "bad"\nnumber',
    })
    assert.equal(b.lines.length, 1)
    assert.deepEqual(JSON.parse(b.lines[0]), {
      time: '2026-12-06T10:00:00.000Z',
      level: 'warn',
      service: 'worker',
      event: 'sms.failed',
      trace: 'AB12.1',
      sms: 7,
      error: 'ESME_RINVDSTADR: "bad"\nnumber',
    })
  })

  it('drops lines below its level, and child() puts its fields on every line', () => {
    const { lines, logger } = capture('logfmt', 'warn')
    const sms = logger.child({ trace: 'T.1', sms: 3 })
    sms.debug('sms.claimed')
    sms.info('sms.submitted')
    sms.warn('sms.expired', { error: 'too old' })
    logger.error('worker.stop_failed', { step: 'mailer' })
    assert.equal(logger.enabled('info'), false)
    assert.deepEqual(
      lines.map((l) => l.replace(/^time=\S+ /, '')),
      [
        'level=warn service=worker event=sms.expired trace=T.1 sms=3 error="too old"',
        'level=error service=worker event=worker.stop_failed step=mailer',
      ],
    )
  })

  it('reads free-text lines into events; a failure named in words is at least a warning', () => {
    const { lines, logger } = capture('json')
    const log = lineSink(logger)
    log('smpp bound host=127.0.0.1:2775 system_id=acme')
    log('cannot claim SMS: connect ECONNREFUSED; retrying')
    log('admin error GET /x: boom')
    const read = lines.map((l) => JSON.parse(l))
    assert.deepEqual(
      read.map((r) => [r.level, r.event]),
      [
        ['info', 'smpp.bound'],
        ['warn', 'cannot.claim'],
        ['error', 'admin.error'],
      ],
    )
    assert.equal(read[0].system_id, 'acme')
    assert.equal(read[1].msg, 'cannot claim SMS: connect ECONNREFUSED; retrying')
  })

  it('never writes a password, whatever the code hands it', () => {
    const { lines, logger } = capture('logfmt')
    logger.info('db.ready', { database: 'mysql://m2s:hunter2@db/m2s' })
    logger.info('smpp.bind', { system_id: 'acme', password: 'hunter2' })
    lineSink(logger)('relay smtp://u:hunter2@relay:587 refused')
    assert.equal(lines.length, 3)
    for (const line of lines) assert.doesNotMatch(line, /hunter2/)
  })

  it('over a line callback: event and fields, WARN/ERROR in front, free text as it is', () => {
    const printed: string[] = []
    const logger = lineLogger((l) => printed.push(l))
    logger.debug('sms.claimed', { sms: 1 })
    logger.info('sms.retry', { sms: 1, error: 'throttled' })
    logger.warn('sms.failed', { sms: 1 })
    logger.line('warn', 'cannot claim SMS: x')
    logger.child({ trace: 't' }).line('info', 'receipts mode=per_part')
    assert.deepEqual(printed, [
      'sms.retry sms=1 error=throttled',
      'WARN sms.failed sms=1',
      'WARN cannot claim SMS: x',
      'receipts trace=t mode=per_part',
    ])
  })
})

describe('lib/log Haraka lines', () => {
  it("writes Haraka's JSON records as ours: uuid as trace, plugin as origin, levels mapped", () => {
    const { lines, logger } = capture('logfmt')
    const item = (level: string, record: object) => ({ level, data: JSON.stringify(record) })
    writeHarakaItem(
      logger,
      item('NOTICE', {
        level: 'NOTICE',
        uuid: 'C0FFEE.1',
        origin: 'queue.sms_outbox',
        message: '',
        event: 'sms.queued',
        sms: 12,
        to: '+33612345678',
      }),
    )
    writeHarakaItem(
      logger,
      item('NOTICE', {
        level: 'NOTICE',
        uuid: 'C0FFEE.1',
        origin: 'mail_from.sms_sender',
        message:
          'sender=bob@example.com account=acme decision=deny status=5.7.1 reason=not_allowed',
      }),
    )
    writeHarakaItem(
      logger,
      item('ERROR', {
        level: 'ERROR',
        uuid: '-',
        origin: 'core',
        message: 'Listening failed: EADDRINUSE',
      }),
    )
    // Haraka's hook trace (its INFO) is our debug: not written at info.
    writeHarakaItem(
      logger,
      item('INFO', { level: 'INFO', uuid: 'C0FFEE', origin: 'x', message: 'y' }),
    )
    writeHarakaItem(logger, { level: 'NOTICE', data: 'Starting up Haraka version 3.3.4' })
    assert.deepEqual(
      lines.map((l) => l.replace(/^time=\S+ /, '')),
      [
        'level=info service=worker event=sms.queued trace=C0FFEE.1 origin=queue.sms_outbox sms=12 to=+33612345678',
        'level=info service=worker event=mail_from.sms_sender trace=C0FFEE.1 origin=mail_from.sms_sender sender=bob@example.com account=acme decision=deny status=5.7.1 reason=not_allowed',
        'level=error service=worker event=core origin=core msg="Listening failed: EADDRINUSE"',
        'level=info service=worker event=haraka msg="Starting up Haraka version 3.3.4"',
      ],
    )
  })

  it("writes Haraka's notices for a message's accepted steps at debug, and its refusals at info", () => {
    // Haraka's json, as its logger builds it for each step of one accepted message.
    const step = (message: string, code: string, extra: object = {}) => ({
      level: 'NOTICE',
      data: JSON.stringify({
        level: 'NOTICE',
        uuid: 'C0FFEE.1',
        origin: 'core',
        message,
        ...extra,
        code,
        msg: '',
      }),
    })
    const accepted = [
      step('sender <alice@acme.example>', 'CONT'),
      step('recipient <0612345678@sms.example.test>', 'OK', { sender: 'alice@acme.example' }),
      step('message', 'CONT', { mid: '<1@acme.example>', size: 300, rcpts: '1/0/0' }),
      step('queue', 'OK'),
    ]
    const refused = [
      step('recipient <0612345678@elsewhere.example>', 'DENY'),
      step('queue', 'DENYSOFT'),
      // A sender cannot pass a refusal off as accepted: JSON escapes the quotes in its address.
      step('sender <"code":"OK"@evil.example>', 'DENY'),
    ]
    const info = capture('logfmt')
    for (const item of [...accepted, ...refused]) writeHarakaItem(info.logger, item)
    assert.deepEqual(
      info.lines.map((l) => / event=(\S+)/.exec(l)?.[1]),
      ['recipient', 'queue', 'sender'],
    )
    assert.ok(info.lines.every((l) => l.includes('level=info') && !l.includes('code=OK')))
    assert.match(info.lines[2], /code=DENY/)
    const debug = capture('logfmt', 'debug')
    for (const item of accepted) writeHarakaItem(debug.logger, item)
    assert.equal(debug.lines.length, 4)
    assert.ok(debug.lines.every((l) => l.includes('level=debug') && l.includes('trace=C0FFEE.1')))
  })

  it("tells a message's accepted steps from Haraka's lognotice arguments, before any record", () => {
    const accepted: Array<[string, object]> = [
      ['sender <alice@acme.example>', { code: 'CONT', msg: '' }],
      ['recipient <0612345678@sms.example.test>', { code: 'OK', msg: '', sender: 'a@b.example' }],
      ['message', { mid: '<1@acme.example>', size: 300, rcpts: '1/0/0', code: 'CONT', msg: '' }],
    ]
    for (const [message, data] of accepted)
      assert.equal(isAcceptedStepNotice(message, data), true, message)
    const others: Array<[unknown, unknown]> = [
      ['recipient <0612345678@elsewhere.example>', { code: 'DENY', msg: 'relay denied' }],
      ['sender <"code":"OK"@evil.example>', { code: 'DENYSOFT' }],
      ['message', { code: 'DENY' }],
      ['queue', { code: 'DENYSOFT' }],
      ['connect', { ip: '127.0.0.1' }],
      ['disconnect', { code: 'OK' }],
      ['sender <a@b.example>', undefined],
      [{ name: 'some.plugin' }, { code: 'OK' }],
    ]
    for (const [message, data] of others)
      assert.equal(isAcceptedStepNotice(message, data), false, JSON.stringify([message, data]))
  })
})
