/**
 * What the person reads, one function per answer. Words only: no key, no token (a refused request may come
 * from a page that can read the answer, as a DNS-rebinding one can), no detail a prober could use.
 */
import type { KeptIn, KeyProblem } from "../session/index.ts";
import { type Html, html, join, type Page } from "./html.ts";

/** The console link, when it is one a browser should follow (config validates it; the page does not trust it). */
function consoleLink(consoleUrl: string): Html {
  const isWeb = URL.canParse(consoleUrl) && /^https?:$/.test(new URL(consoleUrl).protocol);
  return isWeb
    ? html`<a href="${consoleUrl}" target="_blank" rel="noopener noreferrer">TokenHub console (opens in a new tab)</a>`
    : html`TokenHub console (${consoleUrl})`;
}

const keyFileName = (keyFile: string | undefined) =>
  keyFile ? html`<code>${keyFile}</code>` : html`the key file`;

export interface FormState {
  /** The form's own path (the token path): the form posts back to it. */
  action: string;
  consoleUrl: string;
  minutesLeft: number;
  /** Why the last key was not kept, and what to do; shown above the field and tied to it. */
  problem?: { message: string; remedy: string; attemptsLeft: number };
  /** Set only when no OS keychain works: the opt-in to the plaintext key file. */
  noKeychain?: KeyProblem;
  keyFile?: string;
}

export function formPage(state: FormState, status = 200): Page {
  const { problem, noKeychain } = state;
  const describedBy = problem ? "key-problem key-help" : "key-help";
  const minutes = state.minutesLeft === 1 ? "1 minute" : `${state.minutesLeft} minutes`;
  const field = problem
    ? html`<input id="key" name="key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required aria-invalid="true" aria-describedby="${describedBy}">`
    : html`<input id="key" name="key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required aria-describedby="${describedBy}">`;
  const tries = problem?.attemptsLeft === 1 ? "1 more try" : `${problem?.attemptsLeft} more tries`;
  return {
    status,
    title: problem ? "Key not kept" : "Enter your TokenHub API key",
    body: join([
      html`<h1>Enter your TokenHub API key</h1>`,
      html`<p>Your setup asked for your TokenHub API key. Type or paste it here: it goes from this page to the setup running on this computer, never into the chat.</p>`,
      html`<p>No key yet? Create one in the ${consoleLink(state.consoleUrl)} under "API Keys" and copy it: it is shown only once.</p>`,
      html`<form method="post" action="${state.action}">`,
      html`<label for="key">API key</label>`,
      problem &&
        html`<div class="problem" id="key-problem" role="alert"><p><strong>Not kept:</strong> ${problem.message}</p><p>${problem.remedy}</p><p>${tries} with this link.</p></div>`,
      field,
      html`<p id="key-help">The key is checked with one request to TokenHub before it is kept. It is not shown again here.</p>`,
      noKeychain && fileChoice(noKeychain, state.keyFile),
      html`<button type="submit">Check and keep the key</button>`,
      html`</form>`,
      html`<p>This link works once and expires in ${minutes}.</p>`,
    ]),
  };
}

/** The plaintext file, offered only where no OS keychain works, and said plainly for what it is. */
function fileChoice(problem: KeyProblem, keyFile: string | undefined): Html {
  return join([
    html`<fieldset>`,
    html`<legend>No OS keychain works here</legend>`,
    html`<p id="file-why">${problem.message} ${problem.remedy} Until then, the setup keeps the key only while it runs, unless you choose a file.</p>`,
    html`<div class="choice"><input type="checkbox" id="insecure-file" name="insecureFile" value="yes" aria-describedby="file-why file-risk"><label for="insecure-file">Keep the key in a plain file readable only by you: ${keyFileName(keyFile)} (mode 0600)</label></div>`,
    html`<p id="file-risk">The file is not encrypted: anything that runs as you on this computer, and your backups, can read it.</p>`,
    html`</fieldset>`,
  ]);
}

export interface Accepted {
  kept: KeptIn;
  hint: string;
  keyFile?: string;
  keychainProblem?: KeyProblem;
}

export function acceptedPage(accepted: Accepted): Page {
  const { kept, keychainProblem } = accepted;
  const where =
    kept === "keychain"
      ? html`<p>It is kept in your OS keychain, where the setup finds it next time too.</p>`
      : kept === "file"
        ? html`<p>It is kept in a plain file readable only by you: ${keyFileName(accepted.keyFile)} (mode 0600). <code>tokenhub-setup key clear</code> removes it.</p>`
        : join([
            html`<p>It is kept in this process only until it stops: no OS keychain took it.</p>`,
            keychainProblem && html`<p>${keychainProblem.message} ${keychainProblem.remedy}</p>`,
          ]);
  return {
    status: 200,
    title: "Key accepted",
    body: join([
      html`<h1>Key accepted</h1>`,
      html`<p>TokenHub accepted your key (${accepted.hint}).</p>`,
      where,
      html`<p><strong>Return to your agent or terminal: the setup continues by itself.</strong> You can close this page.</p>`,
    ]),
  };
}

const NEW_LINK = html`<p>Ask your agent (or run the setup again) for a new link.</p>`;

export function spentPage(): Page {
  return {
    status: 410,
    title: "Link already used",
    body: join([
      html`<h1>This link was already used</h1>`,
      html`<p>A key was accepted through it, and each link works once. Return to your agent or terminal: the setup continues there.</p>`,
      html`<p>To enter a different key, ask your agent for a new link.</p>`,
    ]),
  };
}

export function expiredPage(): Page {
  return {
    status: 410,
    title: "Link expired",
    body: join([html`<h1>This link has expired</h1>`, html`<p>No key was taken through it.</p>`, NEW_LINK]),
  };
}

export function exhaustedPage(attempts: number, last?: { message: string; remedy: string }): Page {
  return {
    status: 410,
    title: "Link used up",
    body: join([
      html`<h1>This link can no longer be used</h1>`,
      last &&
        html`<div class="problem" role="alert"><p><strong>Not kept:</strong> ${last.message}</p><p>${last.remedy}</p></div>`,
      html`<p>${attempts} keys were tried with it and none was kept, so it no longer takes any.</p>`,
      NEW_LINK,
    ]),
  };
}

export function closedPage(): Page {
  return {
    status: 410,
    title: "Link closed",
    body: join([
      html`<h1>This link was closed</h1>`,
      html`<p>The setup stopped waiting for a key here.</p>`,
      NEW_LINK,
    ]),
  };
}

/** An unknown path or token: the same few words for every one, so a prober learns nothing. */
export function notFoundPage(): Page {
  return { status: 404, title: "Not found", body: html`<h1>Not found</h1>\n<p>There is nothing here.</p>` };
}

/** A request under another name than 127.0.0.1:<port> (DNS rebinding, a proxy): it may read this answer. */
export function wrongHostPage(): Page {
  return {
    status: 421,
    title: "Wrong address",
    body: join([
      html`<h1>Wrong address</h1>`,
      html`<p>This page answers only at the exact address your agent gave you. Open that link as it was given.</p>`,
    ]),
  };
}

export function crossSitePage(): Page {
  return {
    status: 403,
    title: "Refused",
    body: join([
      html`<h1>Refused: not sent from this page</h1>`,
      html`<p>A key is taken only from the form on this page itself. Open the link your agent gave you and enter the key there.</p>`,
    ]),
  };
}

export function methodPage(): Page {
  return {
    status: 405,
    title: "Not allowed",
    body: html`<h1>Not allowed</h1>\n<p>This page only shows its form (GET) and takes the form back (POST).</p>`,
  };
}

export function contentTypePage(): Page {
  return {
    status: 415,
    title: "Not a form",
    body: html`<h1>Not a form</h1>\n<p>This page takes only its own form (application/x-www-form-urlencoded).</p>`,
  };
}

export function tooLargePage(): Page {
  return {
    status: 413,
    title: "Too long",
    body: join([
      html`<h1>Too much was sent</h1>`,
      html`<p>Far more was sent than any key: check that only the key was copied, then go back and try again.</p>`,
    ]),
  };
}

export function busyPage(): Page {
  return {
    status: 409,
    title: "Already checking",
    body: join([
      html`<h1>A key is being checked</h1>`,
      html`<p>Another submission of this form is being checked with TokenHub. Wait for that page to answer.</p>`,
    ]),
  };
}

export function brokenPage(): Page {
  return {
    status: 500,
    title: "Something went wrong",
    body: join([
      html`<h1>Something went wrong</h1>`,
      html`<p>The setup could not handle this key entry; the key was not kept. The setup's log says why.</p>`,
      NEW_LINK,
    ]),
  };
}
