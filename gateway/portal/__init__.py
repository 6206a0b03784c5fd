"""The SPLP portal (``jamajama portal``): server-rendered pages in Bahasa Indonesia for the people
around the gateway (OPD admins, consumer application owners, the DPO, the Diskominfo operator).

Its own process, outside the gateway's request path: it reads the gateway only through the
public GraphQL endpoint and ``/metrics``, and the registries through their APIs and stores.
One module per page in ``gateway.portal.pages``; see ``docs/portal.md``.
"""
