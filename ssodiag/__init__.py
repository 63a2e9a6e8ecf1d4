"""ssodiag: diagnose failed SAML single sign-on logins from the evidence users have.

The repository keeps its three parts as top-level folders and installs them under this one name
(pyproject.toml maps them): ``ssodiag.diag`` (evidence, model, engine), ``ssodiag.checks`` (check modules)
and ``ssodiag.reports`` (renderers and templates).
"""
