"""Apollo Connectors: OPD REST APIs in the graph from an SDL (@source/@connect)."""
