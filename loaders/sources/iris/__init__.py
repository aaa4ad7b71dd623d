"""Elexon IRIS: BMRS datasets pushed live over Azure Service Bus, landed exactly once."""
