from rdsctl.cli import main

main()
