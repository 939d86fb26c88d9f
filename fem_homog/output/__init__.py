"""Output: ``results.json`` writing, VTX field files for ParaView, PNG plots of fields."""
