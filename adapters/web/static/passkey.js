// The passkey page: ask the server for options, let the authenticator answer, post the answer back.
(function () {
  "use strict";
  var main = document.getElementById("passkey");
  var button = document.getElementById("go");
  var status = document.getElementById("status");
  if (!main || !button) { return; }
  var words = JSON.parse(document.getElementById("words").textContent || "{}");
  var say = function (text, kind) { status.textContent = text; status.className = kind || ""; };
  var tg = window.Telegram && window.Telegram.WebApp;
  var initData = (tg && tg.initData) || new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    document.getElementById("nowebauthn").hidden = false;
    button.disabled = true;
    return;
  }
  var dec = function (s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(s + "===".slice((s.length + 3) % 4)), function (c) { return c.charCodeAt(0); });
  };
  var enc = function (buf) {
    var s = "", bytes = new Uint8Array(buf);
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  var post = function (what, body) {
    body.initData = initData;
    return fetch(location.pathname + "/" + what, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body), credentials: "omit"}).then(function (r) { return r.json(); });
  };
  var enrol = main.dataset.purpose === "enrol";
  button.addEventListener("click", async function () {
    button.disabled = true;
    say(words.working);
    var got;
    try { got = await post("options", {}); } catch (e) { say(words.network, "bad"); button.disabled = false; return; }
    if (!got.ok) { say(got.message, "bad"); return; }
    var o = got.options, cred, answer, r;
    try {
      o.challenge = dec(o.challenge);
      (o.excludeCredentials || o.allowCredentials || []).forEach(function (c) { c.id = dec(c.id); });
      if (enrol) {
        o.user.id = dec(o.user.id);
        cred = await navigator.credentials.create({publicKey: o});
        r = cred.response;
        answer = {clientDataJSON: enc(r.clientDataJSON), attestationObject: enc(r.attestationObject),
                  transports: r.getTransports ? r.getTransports() : []};
      } else {
        cred = await navigator.credentials.get({publicKey: o});
        r = cred.response;
        answer = {clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData),
                  signature: enc(r.signature), userHandle: r.userHandle ? enc(r.userHandle) : null};
      }
    } catch (e) {
      say(e && e.name === "NotAllowedError" ? words.cancelled : words.failed, "bad");
      button.disabled = false;
      return;
    }
    say(words.sending);
    var name = document.getElementById("name");
    var res;
    try {
      res = await post("answer", {name: name ? name.value : "", credential: {id: cred.id, rawId: enc(cred.rawId),
        type: cred.type, response: answer, clientExtensionResults: cred.getClientExtensionResults(),
        authenticatorAttachment: cred.authenticatorAttachment}});
    } catch (e) { say(words.network, "bad"); button.disabled = false; return; }
    say(res.message, res.ok ? "good" : "bad");
    main.dataset.result = res.reason;
    if (res.ok) {
      button.hidden = true;
      if (tg && tg.close) { setTimeout(function () { tg.close(); }, 2500); }
    } else if (res.reason !== "link_used" && res.reason !== "not_open" && res.reason !== "locked") {
      button.disabled = false;
    }
  });
})();
