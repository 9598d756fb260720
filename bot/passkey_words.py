"""What the passkey page and chat say: each refusal's sentence, in the person's language."""

from __future__ import annotations

from bot.i18n import t
from bot.passkeys import Refusal


def refusal_text(lang: str, reason: Refusal) -> str:
    """The sentence a refusal shows on the page (and in the chat): what happened, what to do."""
    texts = {
        Refusal.link_unknown: t(lang, "This link is not valid. Ask for a new one in the chat."),
        Refusal.link_expired: t(lang, "This link has expired. Nothing was done. Ask for a new one in the chat."),
        Refusal.link_used: t(lang, "This link was already used, so it does nothing more. Nothing was done twice."),
        Refusal.wrong_purpose: t(lang, "This link is not for that. Nothing was done."),
        Refusal.wrong_person: t(lang, "This page was not opened in Telegram by the person it is for, so it does nothing. Open it from your own private chat with the bot."),
        Refusal.not_open: t(lang, "This confirmation is no longer open (already confirmed, cancelled or expired). Nothing was done."),
        Refusal.tampered: t(lang, "This card changed after it was shown, so it is void. Nothing was done."),
        Refusal.locked: t(lang, "Confirmations are locked for a while after too many failed attempts. Nothing was done."),
        Refusal.no_challenge: t(lang, "This page is out of date. Reload it and try again."),
        Refusal.malformed: t(lang, "Your browser's answer could not be read. Nothing was done; try again."),
        Refusal.unknown_credential: t(lang, "That passkey is not one of yours here. Use a passkey you added with /passkey. Nothing was done."),
        Refusal.challenge_mismatch: t(lang, "That passkey answer was made for another confirmation, or was already used, so it does not confirm this one. Nothing was done."),
        Refusal.wrong_type: t(lang, "Your browser's answer could not be read. Nothing was done; try again."),
        Refusal.wrong_origin: t(lang, "That answer came from another website than this one, so it was refused. Nothing was done."),
        Refusal.wrong_rp: t(lang, "That passkey belongs to another website, so it was refused. Nothing was done."),
        Refusal.user_not_present: t(lang, "Your device did not check that you are there, so it was refused. Nothing was done."),
        Refusal.user_not_verified: t(lang, "Your device did not verify you (fingerprint, face or screen lock), so it was refused. Nothing was done. Turn on a screen lock and try again."),
        Refusal.sign_count: t(lang, "This passkey's counter went backwards, a sign that it may have been copied, so it was refused. Nothing was done. Remove it with /passkey and add a new one."),
        Refusal.bad_signature: t(lang, "The passkey's signature did not check out, so it was refused. Nothing was done."),
        Refusal.registration_failed: t(lang, "The passkey could not be added. Nothing was saved; try again."),
        Refusal.already_registered: t(lang, "This passkey is already added."),
    }
    return texts[reason]
