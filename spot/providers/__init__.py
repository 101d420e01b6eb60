"""Fleet providers behind one interface (base.Provider)."""


def for_fleet(fleet):
    """The provider a fleet runs on."""
    if fleet.is_simulated:
        from spot.providers.simulated import SimulatedProvider

        return SimulatedProvider(fleet.simulated_seed, fleet.simulated_interruptions_per_hour)
    from spot.providers.aws import AwsProvider

    return AwsProvider(fleet.region)
