/** The sign-in form: an API token, posted once and kept by the browser as an HttpOnly session cookie. */
import { api, type Me } from './api.js'
import { alertBox, fill, h } from './dom.js'

export function renderSignIn(main: HTMLElement, onSignedIn: (me: Me) => void, reason?: string): void {
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
    'aria-describedby': 'token-hint',
  })
  const errorSlot = h('div')
  const button = h('button', { type: 'submit' }, 'Sign in')
  const form = h(
    'form',
    { class: 'sign-in', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'token' }, 'API token'),
      input,
      h(
        'span',
        { id: 'token-hint', class: 'hint' },
        'A token starts with slk_. An operator makes one with: synclog token create --name <name> --tenant <district>',
      ),
    ),
    errorSlot,
    button,
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const token = input.value.trim()
    if (token === '') {
      errorSlot.replaceChildren(alertBox('Enter an API token.'))
      input.focus()
      return
    }
    button.disabled = true
    api.signIn(token).then(
      (me) => onSignedIn(me),
      (err: unknown) => {
        button.disabled = false
        errorSlot.replaceChildren(alertBox((err as Error).message))
        input.select()
      },
    )
  })
  fill(
    main,
    h('h1', { tabindex: -1 }, 'Sign in'),
    h(
      'p',
      { class: 'intro' },
      "Review syncs, their summaries and the sync log. What you see is limited to your token's district or school.",
    ),
    reason === undefined ? null : h('p', { class: 'notice' }, reason),
    form,
  )
  input.focus()
}
