"""Jama Jama gateway: reads a Federation 2 supergraph, plans and runs operations over subgraphs."""
