import ArgumentParser

OTACommand.main()
