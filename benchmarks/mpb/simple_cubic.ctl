; Simple cubic lattice (a = 1) of dielectric spheres, epsilon 11.56, radius 0.25, centred in the cell, in air
; (the crystal of benchmarks/maxwell_bench.py). Frequencies omega a / (2 pi c); k in MPB's reciprocal basis
; (units of 2 pi / a for this cubic lattice).
;   mpb res=24 interp=3 simple_cubic.ctl
(define-param res 16)
(define-param interp 3)
(define-param nbands 6)
(define-param kpoints #f)  ; a list of k-points (MPB basis) replacing the path, e.g. 'kpoints=(list (vector3 0.5 0 0))'

(set! geometry-lattice (make lattice (size 1 1 1)))
(set! geometry (list (make sphere (material (make dielectric (epsilon 11.56)))
                           (center 0 0 0) (radius 0.25))))

; The sc path G-X-M-R-G (X = pi(1,0,0), M = pi(1,1,0), R = pi(1,1,1)).
(define Gamma (vector3 0 0 0))
(define X (vector3 0.5 0 0))
(define M (vector3 0.5 0.5 0))
(define R (vector3 0.5 0.5 0.5))
(set! k-points (or kpoints (interpolate interp (list Gamma X M R Gamma))))

(set! resolution res)
(set! num-bands nbands)
(run)
