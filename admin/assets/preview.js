/* global document, window, fetch, FormData, URLSearchParams, DOMParser, AbortController */
/*
 * Live SMS preview on the "Préférences" page. Without this script the preview form still works:
 * it posts and the whole page comes back. With it, typing or pasting in the textarea asks the
 * server for the result box alone (X-Requested-With: fetch) and swaps it in, so the text,
 * encoding and count shown are always the server's, computed by the same code as the MX's.
 */
;(function () {
  'use strict'

  var RESULT_ID = 'sms-preview-result'
  var DELAY_MS = 300

  function enhance(form) {
    var textarea = form.querySelector('textarea')
    if (!textarea) return
    var timer = null
    var inFlight = null
    var sequence = 0

    function refresh() {
      var current = document.getElementById(RESULT_ID)
      if (!current) return
      if (inFlight) inFlight.abort()
      inFlight = new AbortController()
      var mine = ++sequence
      fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: 'text/html', 'X-Requested-With': 'fetch' },
        credentials: 'same-origin',
        signal: inFlight.signal,
      })
        .then(function (response) {
          if (!response.ok) throw new Error('preview failed: ' + response.status)
          return response.text()
        })
        .then(function (html) {
          // An older answer arriving late must not replace a newer one.
          if (mine !== sequence) return
          var doc = new DOMParser().parseFromString(html, 'text/html')
          var fresh = doc.getElementById(RESULT_ID)
          var shown = document.getElementById(RESULT_ID)
          // The box itself stays, so screen readers keep it as a live region and announce
          // the new content; only what is inside is replaced.
          if (!fresh || !shown) return
          var imported = document.importNode(fresh, true)
          shown.replaceChildren.apply(shown, Array.prototype.slice.call(imported.childNodes))
        })
        .catch(function () {
          // Aborted or failed: the button still posts the form the plain way.
        })
    }

    textarea.addEventListener('input', function () {
      if (timer) window.clearTimeout(timer)
      timer = window.setTimeout(refresh, DELAY_MS)
    })
  }

  function start() {
    var forms = document.querySelectorAll('form[data-sms-preview]')
    for (var i = 0; i < forms.length; i++) enhance(forms[i])
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
