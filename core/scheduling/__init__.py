"""When things happen: scheduled releases, reminders, digests."""
