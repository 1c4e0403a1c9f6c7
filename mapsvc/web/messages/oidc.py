"""Words of the oidc pages and scripts, by message id, in Dutch, French and English."""

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "oidc.login_with": "Inloggen met {label}",
        "oidc.or": "of met je e-mailadres:",
        "error.oidc_state_mismatch": "Deze inlogpoging is niet (meer) geldig: ze is al gebruikt, verlopen, "
                                          "of in een ander venster gestart. Probeer opnieuw.",
        "error.oidc_login_expired": "Je deed er te lang over om in te loggen. Probeer opnieuw.",
        "error.oidc_provider_error": "Het inloggen werd afgebroken of geweigerd bij de overheidslogin. "
                                          "Probeer opnieuw.",
        "error.oidc_code_missing": "De overheidslogin stuurde geen inlogcode terug. Probeer opnieuw.",
        "error.oidc_code_rejected": "De inlogcode is verlopen of werd al gebruikt. Probeer opnieuw.",
        "error.oidc_invalid_token": "Het antwoord van de overheidslogin kon niet gecontroleerd worden. "
                                         "Probeer opnieuw; blijft het mislukken, meld het dan aan de beheerder.",
        "error.oidc_identity_taken": "Deze overheidslogin hoort al bij een ander account. Log daarmee in "
                                          "als je dat account wilt gebruiken.",
        "error.oidc_provider_unavailable": "De overheidslogin is nu niet bereikbaar. Probeer het later "
                                                "opnieuw.",
        "error.oidc_not_configured": "Inloggen met de overheidslogin is hier niet ingesteld. Log in met je "
                                          "e-mailadres.",
        "error.oidc_link_needs_login": "Log eerst in met je e-mailadres en wachtwoord; daarna kun je de "
                                            "overheidslogin aan je account koppelen.",
        "error.oidc_session_changed": "Je bent intussen met een ander account ingelogd. Start het koppelen "
                                           "opnieuw.",
        "error.oidc_account_inactive": "Dit account is niet actief.",
        "error.assurance_level_required": "Stemmen op dit platform kan alleen na inloggen met de overheidslogin "
                                          "(met een voldoende hoog betrouwbaarheidsniveau). Log in met de "
                                          "overheidslogin om te stemmen.",
    },
    "fr": {
        "oidc.login_with": "Se connecter avec {label}",
        "oidc.or": "ou avec votre adresse e-mail :",
        "error.oidc_state_mismatch": "Cette tentative de connexion n'est pas (ou plus) valable : elle a déjà "
                                          "servi, a expiré ou a été lancée dans une autre fenêtre. Réessayez.",
        "error.oidc_login_expired": "La connexion a pris trop de temps. Réessayez.",
        "error.oidc_provider_error": "La connexion a été interrompue ou refusée par le login des pouvoirs "
                                          "publics. Réessayez.",
        "error.oidc_code_missing": "Le login des pouvoirs publics n'a pas renvoyé de code de connexion. "
                                        "Réessayez.",
        "error.oidc_code_rejected": "Le code de connexion a expiré ou a déjà servi. Réessayez.",
        "error.oidc_invalid_token": "La réponse du login des pouvoirs publics n'a pas pu être vérifiée. "
                                         "Réessayez ; si cela persiste, prévenez l'administrateur.",
        "error.oidc_identity_taken": "Ce login des pouvoirs publics appartient déjà à un autre compte. "
                                          "Connectez-vous avec lui pour utiliser ce compte.",
        "error.oidc_provider_unavailable": "Le login des pouvoirs publics est injoignable pour l'instant. "
                                                "Réessayez plus tard.",
        "error.oidc_not_configured": "La connexion par le login des pouvoirs publics n'est pas configurée "
                                          "ici. Connectez-vous avec votre adresse e-mail.",
        "error.oidc_link_needs_login": "Connectez-vous d'abord avec votre adresse e-mail et votre mot de "
                                            "passe ; vous pourrez ensuite lier le login des pouvoirs publics à "
                                            "votre compte.",
        "error.oidc_session_changed": "Entre-temps, vous vous êtes connecté avec un autre compte. "
                                           "Recommencez la liaison.",
        "error.oidc_account_inactive": "Ce compte n'est pas actif.",
        "error.assurance_level_required": "Sur cette plateforme, on ne peut voter qu'après s'être connecté avec le "
                                          "login des pouvoirs publics (avec un niveau de garantie suffisant). "
                                          "Connectez-vous avec ce login pour voter.",
    },
    "en": {
        "oidc.login_with": "Log in with {label}",
        "oidc.or": "or with your e-mail address:",
        "error.oidc_state_mismatch": "This login attempt is not (or no longer) valid: it was used already, "
                                          "expired, or was started in another window. Please try again.",
        "error.oidc_login_expired": "Logging in took too long. Please try again.",
        "error.oidc_provider_error": "The government login cancelled or refused the login. Please try again.",
        "error.oidc_code_missing": "The government login sent no login code back. Please try again.",
        "error.oidc_code_rejected": "The login code expired or was used already. Please try again.",
        "error.oidc_invalid_token": "The government login's answer could not be verified. Please try again; "
                                         "if it keeps failing, tell the administrator.",
        "error.oidc_identity_taken": "This government login belongs to another account already. Log in with "
                                          "it to use that account.",
        "error.oidc_provider_unavailable": "The government login cannot be reached right now. Please try "
                                                "again later.",
        "error.oidc_not_configured": "Logging in with the government login is not set up here. Log in with "
                                          "your e-mail address.",
        "error.oidc_link_needs_login": "Log in with your e-mail address and password first; then you can link "
                                            "the government login to your account.",
        "error.oidc_session_changed": "You logged in with another account in the meantime. Start linking "
                                           "again.",
        "error.oidc_account_inactive": "This account is not active.",
        "error.assurance_level_required": "Voting on this platform needs the government login (at a sufficient "
                                          "assurance level). Log in with the government login to vote.",
    },
}
