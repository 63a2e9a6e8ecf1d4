"""ssodiag: diagnose failed SAML single sign-on logins from the evidence a user has."""
__version__ = "0.1.0"
