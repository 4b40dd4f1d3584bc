"""The users actor's pure logic: registration, profile, default model and personality."""
