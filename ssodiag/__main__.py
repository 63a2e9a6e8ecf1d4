from ssodiag.diag.cli import main

main()
