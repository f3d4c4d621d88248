from card_emulator.cli import main

main()
