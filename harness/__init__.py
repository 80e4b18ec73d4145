"""What the tests and the benchmark share: a Compose stack of this project on free ports."""
