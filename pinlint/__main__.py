from pinlint.cli import main

main()
