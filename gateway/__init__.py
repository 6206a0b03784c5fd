"""Jama Jama gateway: reads a Federation 2 supergraph, plans and executes operations over OPD subgraphs."""
