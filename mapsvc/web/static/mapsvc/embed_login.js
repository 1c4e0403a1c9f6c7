/* The login popup of an embedded map: ask for the frame's own token (this window is first-party, so the
 * session cookie and CSRF token work here) and hand it to the map that opened us. postMessage names our own
 * origin as the target, so only a mapsvc page (the embedded map) can receive it, never the host website. */
(async function () {
  "use strict";
  const box = document.getElementById("mapsvc-embed-login");
  const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  if (!window.opener) { box.textContent = box.dataset.done; return; }  // opened as a tab: the cookie suffices
  let answer = null;
  try {
    const response = await fetch(box.dataset.tokenUrl, {method: "POST", credentials: "same-origin",
                                                        headers: {Accept: "application/json", "X-CSRFToken": csrf}});
    if (response.ok) answer = await response.json();
  } catch (err) {
    answer = null;
  }
  if (!answer) { box.textContent = box.dataset.failed; return; }
  window.opener.postMessage({type: "mapsvc-login", token: answer.token, user: answer.user}, window.location.origin);
  box.textContent = box.dataset.done;
  window.setTimeout(() => window.close(), 300);
})();
