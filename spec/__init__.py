"""The TLA+ twin of the model (Tendermint.tla), the MC files generated from a
Config (mc.py), and the code that runs TLC on it (tlc.py), reads its values
(values.py, bridge.py) and compares it with bftcheck's checker (crossval.py)."""
