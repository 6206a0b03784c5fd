"""supergraph"""
