import assert from 'node:assert/strict'
import { matchKeyword, normaliseKeywordText } from '../../../lib/inbound/keywords'

describe('lib/inbound/keywords', () => {
  it('normalises case, accents, punctuation, emoji and spacing', () => {
    assert.equal(normaliseKeywordText('  Arrêt !! 🙏 '), 'ARRET')
    assert.equal(normaliseKeywordText('stop-sms.'), 'STOP SMS')
    assert.equal(normaliseKeywordText('Désabonner'), 'DESABONNER')
  })

  for (const text of [
    'STOP',
    'stop',
    'Stop.',
    ' STOP!!! ',
    'stop 😡',
    'STOP SMS',
    'StopAll',
    'ARRET',
    'arrêt',
    'Arrêter',
    'désabonner',
    'DESINSCRIPTION',
    'Unsubscribe',
    'cancel',
    'END',
    'quit',
    'Baja',
    'ALTO',
  ]) {
    it(`reads ${JSON.stringify(text)} as an opt-out`, () => {
      assert.equal(matchKeyword(text)?.action, 'stop')
    })
  }

  for (const text of ['START', 'start!', 'Unstop', 'Démarrer', 'yes', 'Subscribe']) {
    it(`reads ${JSON.stringify(text)} as an opt-in`, () => {
      assert.equal(matchKeyword(text)?.action, 'start')
    })
  }

  for (const text of [
    'stop calling me at 6pm',
    'Please stop',
    'Can you stop by tomorrow?',
    'STOPPED',
    'non-stop',
    'yes please',
    'Je voudrais arrêter',
    '',
    '🙏',
  ]) {
    it(`does not read ${JSON.stringify(text)} as a keyword`, () => {
      assert.equal(matchKeyword(text), null)
    })
  }

  it('names the keyword as normalised', () => {
    assert.deepEqual(matchKeyword('Arrêt.'), { action: 'stop', keyword: 'ARRET' })
  })
})
